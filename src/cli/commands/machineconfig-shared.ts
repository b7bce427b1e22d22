import { parse, parseAllDocuments } from 'yaml';
import { ApplyConfigurationRequest_Mode as Mode } from '../../api/gen/machine/machine.js';
import type { CallOptions } from '../../client/rpc.js';
import { ActiveID, MachineConfigType, YAML_SPEC_ANNOTATION } from '../../resources/config/machine-config.js';
import type { CommandContext } from '../command.js';
import type { Connection } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { parseDuration, UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { APPLY_MODES, parseApplyMode, printApplyResults } from './apply-config.js';

const NAMES = ['machineconfig', 'machineconfigs', 'mc', MachineConfigType.toLowerCase()];

/** The flags `patch` and `edit` share with talosctl. */
export const machineConfigFlags = [
  { name: 'namespace', kind: 'string' as const, description: 'resource namespace (default is to use default namespace per resource)' },
  { name: 'mode', short: 'm', kind: 'string' as const, description: `apply config mode (${Object.keys(APPLY_MODES).sort().join(', ')})`, default: 'auto' },
  { name: 'timeout', kind: 'duration' as const, description: 'the config will be rolled back after specified timeout (if try mode is selected)', default: parseDuration('1m') },
  resultOutputFlag,
];

/** Checks the `machineconfig [<id>]` arguments: only the machine config can be patched or edited. */
export function machineConfigArgs(ctx: CommandContext, verb: string): { id: string } {
  resultFormat(ctx);
  const [type, id = ActiveID] = ctx.expectArgs(1, 2);
  if (!NAMES.includes(type!.toLowerCase())) throw new UsageError(`only the machineconfig resource can be ${verb}, not "${type}"`);
  return { id };
}

/** The machine config text of a MachineConfig resource's YAML spec (a YAML string when annotated so). */
export function machineConfigBody(yamlSpec: string, annotations: Record<string, string>): string {
  if (annotations[YAML_SPEC_ANNOTATION] === undefined) return yamlSpec;
  const s = parse(yamlSpec) as unknown;
  if (typeof s !== 'string') throw new Error('the machine config resource does not hold the config text');
  return s;
}

/** Whether two config texts hold the same documents once comments and formatting are set aside. */
export function sameConfig(a: string, b: string): boolean {
  const docs = (t: string) => JSON.stringify(parseAllDocuments(t).map((d) => (Array.isArray(d) ? null : d.toJSON())));
  try {
    return docs(a) === docs(b);
  } catch {
    return a.trim() === b.trim();
  }
}

export interface NodeConfig {
  /** the node's name as printed, and the routing of calls to it */
  node: string;
  route: CallOptions;
  body: string;
}

/**
 * Reads the machine config of every target node (through cosi.resource.State, as talosctl does) and hands it to
 * `fn`, one node after the other. A node that fails is reported on one line and the others still run.
 */
export async function forEachMachineConfig(ctx: CommandContext, conn: Connection, id: string, fn: (nc: NodeConfig) => Promise<void>): Promise<boolean> {
  const namespace = ctx.string('namespace') ?? 'config';
  const targets = conn.nodes.length ? conn.nodes.map((n) => ({ node: n, route: { node: n } as CallOptions })) : [{ node: conn.client.endpoints[0]!.host, route: { nodes: [] } as CallOptions }];
  let failed = false;
  for (const t of targets) {
    try {
      const res = await conn.client.cosi.get({ namespace, type: MachineConfigType, id }, { ...t.route, signal: ctx.io.signal });
      const r = res.resource;
      if (!r?.metadata || !r.spec) throw new Error('the node answered without a resource');
      await fn({ ...t, body: machineConfigBody(r.spec.yamlSpec, r.metadata.annotations) });
    } catch (e) {
      if (ctx.io.signal.aborted) throw e;
      failed = true;
      ctx.err(`error: ${nodeFailure(t.node, e)}\n`);
    }
  }
  return failed;
}

/** A node whose config was left as it was: the reason on stderr, as talosctl says it, and in the `-o json|yaml` result. */
export function skipped(ctx: CommandContext, node: string, reason: string): void {
  ctx.err(`Apply was skipped: ${reason}.\n`);
  printResult(ctx, node, { skipped: reason });
}

/** Sends a config to one node with ApplyConfiguration; returns a printer of what the node said it did. */
export async function applyTo(ctx: CommandContext, conn: Connection, nc: NodeConfig, data: string): Promise<() => void> {
  const tryMs = ctx.duration('timeout') ?? 60_000;
  const mode: Mode = parseApplyMode(ctx.string('mode') ?? 'auto');
  const res = await conn.client.machine.applyConfiguration(
    { data: Buffer.from(data), mode, dryRun: ctx.bool('dry-run'), tryModeTimeout: { seconds: String(Math.floor(tryMs / 1000)), nanos: (tryMs % 1000) * 1e6 } },
    { ...nc.route, signal: ctx.io.signal },
  );
  return () => printApplyResults(ctx, res.messages.map((value) => ({ node: nc.node, value })), ctx.bool('dry-run'));
}
