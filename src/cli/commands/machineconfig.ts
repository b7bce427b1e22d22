import { readFile, writeFile } from 'node:fs/promises';
import { applyPatches, loadConfig, loadPatches } from '../../config/index.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { genConfigCommand } from './gen-config.js';

/** `machineconfig patch`: patches a config file locally, with no node involved. */
const patch: Command = {
  name: 'patch',
  summary: 'Patch a machine config',
  usage: '<machineconfig-file>',
  flags: [
    { name: 'output', short: 'o', kind: 'string', description: 'output destination. if not specified, output will be printed to stdout' },
    { name: 'patch', short: 'p', kind: 'list', noSplit: true, description: 'patch generated machineconfigs (applied to all node types), use @file to read a patch from file' },
  ],
  async run(ctx) {
    const [file] = ctx.expectArgs(1);
    if (ctx.list('patch').length === 0) throw new UsageError('no patches given: use -p or --patch');
    let text: string;
    try {
      text = await readFile(file!, 'utf8');
    } catch (e) {
      throw new Error(`failed to read ${file}: ${(e as Error).message}`, { cause: e });
    }
    const patched = applyPatches(loadConfig(text, { source: file }), loadPatches(ctx.list('patch'))).encode();
    const out = ctx.string('output');
    if (out) await writeFile(out, patched, { mode: 0o600 });
    else ctx.out(patched);
    return 0;
  },
};

export const machineconfigCommand: Command = {
  name: 'machineconfig',
  aliases: ['mc'],
  summary: 'Machine config related commands',
  subcommands: [{ ...genConfigCommand, name: 'gen', summary: 'Generates a set of configuration files for Talos cluster' }, patch],
};
