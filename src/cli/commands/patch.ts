import { applyPatches, loadConfig, loadPatches } from '../../config/index.js';
import { MachineConfigType } from '../../resources/config/machine-config.js';
import type { Command } from '../command.js';
import { withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { applyTo, forEachMachineConfig, machineConfigArgs, machineConfigFlags, sameConfig, skipped } from './machineconfig-shared.js';

export const patchCommand: Command = {
  name: 'patch',
  summary: 'Patch machine configuration of a Talos node with a local patch.',
  usage: 'machineconfig',
  flags: [
    ...machineConfigFlags,
    { name: 'patch-file', kind: 'string', description: 'a file containing a patch to be applied to the resource.' },
    { name: 'patch', short: 'p', kind: 'list', noSplit: true, description: 'the patch to be applied to the resource file, use @file to read a patch from file.' },
    { name: 'dry-run', kind: 'bool', description: 'print the change summary and patch preview without applying the changes' },
  ],
  async run(ctx) {
    const { id } = machineConfigArgs(ctx, 'patched');
    const args = [...ctx.list('patch'), ...(ctx.string('patch-file') ? [`@${ctx.string('patch-file')}`] : [])];
    if (args.length === 0) throw new UsageError('either --patch or --patch-file should be defined');
    const patches = loadPatches(args);
    return withClient(ctx, async (conn) => {
      const failed = await forEachMachineConfig(ctx, conn, id, async (nc) => {
        const patched = applyPatches(loadConfig(nc.body, { source: `${nc.node}:${MachineConfigType}/${id}` }), patches).encode();
        if (sameConfig(patched, nc.body)) {
          skipped(ctx, nc.node, 'no changes detected');
          return;
        }
        const printResults = await applyTo(ctx, conn, nc, patched);
        ctx.err(`patched ${MachineConfigType}/${id} at the node ${nc.node}\n`);
        printResults();
      });
      return failed ? 1 : 0;
    });
  },
};
