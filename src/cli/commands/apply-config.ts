import { readFileSync } from 'node:fs';
import { ApplyConfigurationRequest_Mode as Mode, applyConfigurationRequest_ModeToJSON } from '../../api/gen/machine/machine.js';
import { applyPatches, loadConfig, loadPatches } from '../../config/index.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { parseDuration, UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

/** talosctl's `--mode` values. */
export const APPLY_MODES: Record<string, Mode> = {
  auto: Mode.AUTO,
  'no-reboot': Mode.NO_REBOOT,
  reboot: Mode.REBOOT,
  staged: Mode.STAGED,
  try: Mode.TRY,
};

export function parseApplyMode(value: string): Mode {
  const m = APPLY_MODES[value];
  if (m === undefined) throw new UsageError(`invalid argument "${value}" for "-m, --mode" flag: possible options are: ${Object.keys(APPLY_MODES).sort().join(', ')}`);
  return m;
}

/** The config to send: the file, with the `-p` patches applied locally (the node gets the result). */
export function configToApply(file: string | undefined, patches: string[], read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Buffer {
  if (!file) throw new UsageError('no filename supplied for configuration');
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`failed to read configuration from "${file}": open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (text.length === 0) throw new Error('no configuration data read');
  if (patches.length === 0) return Buffer.from(text);
  const patched = applyPatches(loadConfig(text, { source: file }), loadPatches(patches, read));
  return Buffer.from(patched.encode());
}

/**
 * What each node said it did with a new config: its warnings and mode details, on stderr as talosctl prints them; with
 * `-o json|yaml`, also one document per node on stdout.
 */
export function printApplyResults(ctx: CommandContext, answers: { node: string; value: { warnings: string[]; mode: Mode; modeDetails: string } }[], dryRun: boolean): void {
  for (const { node, value: a } of answers) {
    for (const w of a.warnings) ctx.err(`WARNING: ${w}\n`);
    if (a.modeDetails) ctx.err(`${a.modeDetails}\n`);
    printResult(ctx, node, { mode: applyConfigurationRequest_ModeToJSON(a.mode), dryRun, modeDetails: a.modeDetails, warnings: a.warnings });
  }
}

/** Sends a machine config with ApplyConfiguration and prints what each node did (its warnings and mode details). */
export async function applyConfig(ctx: CommandContext, data: Buffer, opts: { mode: Mode; dryRun: boolean; tryTimeoutMs: number; insecure: boolean }): Promise<number> {
  return withClient(
    ctx,
    async (conn) => {
      let res;
      try {
        res = await conn.client.machine.applyConfiguration({
          data,
          mode: opts.mode,
          dryRun: opts.dryRun,
          tryModeTimeout: { seconds: String(Math.floor(opts.tryTimeoutMs / 1000)), nanos: (opts.tryTimeoutMs % 1000) * 1e6 },
        });
      } catch (e) {
        throw new Error(`error applying new configuration: ${(e as Error).message}`);
      }
      const { items, failed } = perNode(ctx, res, defaultNode(conn));
      printApplyResults(ctx, items, opts.dryRun);
      return failed ? 1 : 0;
    },
    { insecure: opts.insecure },
  );
}

export const applyConfigCommand: Command = {
  name: 'apply-config',
  summary: 'Apply a new configuration to a node',
  flags: [
    { name: 'file', short: 'f', kind: 'string', description: 'the filename of the updated configuration' },
    { name: 'insecure', short: 'i', kind: 'bool', description: 'apply the config using the insecure (encrypted with no auth) maintenance service' },
    { name: 'dry-run', kind: 'bool', description: 'check how the config change will be applied in dry-run mode' },
    { name: 'config-patch', short: 'p', kind: 'list', noSplit: true, description: 'the list of config patches to apply to the local config file before sending it to the node' },
    { name: 'mode', short: 'm', kind: 'string', description: `apply config mode (${Object.keys(APPLY_MODES).sort().join(', ')})`, default: 'auto' },
    { name: 'timeout', kind: 'duration', description: 'the config will be rolled back after specified timeout (if try mode is selected)', default: parseDuration('1m') },
    resultOutputFlag,
  ],
  async run(ctx) {
    resultFormat(ctx);
    const arg = ctx.positional[0];
    if (arg !== undefined) throw new UsageError(arg === 'config' || arg.toLowerCase() === 'machineconfig' ? 'expected no positional arguments' : `unknown positional argument ${arg}`);
    const mode = parseApplyMode(ctx.string('mode') ?? 'auto');
    const data = configToApply(ctx.string('file'), ctx.list('config-patch'));
    return applyConfig(ctx, data, { mode, dryRun: ctx.bool('dry-run'), tryTimeoutMs: ctx.duration('timeout') ?? 60_000, insecure: ctx.bool('insecure') });
  },
};
