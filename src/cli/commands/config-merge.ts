import { loadTalosconfig, mergeTalosconfig } from '../../client/talosconfig.js';
import type { Command } from '../command.js';
import { openTalosconfig, saveTalosconfig } from './config-shared.js';

export const configMergeCommand: Command = {
  name: 'merge',
  summary: 'Merge additional contexts from another client configuration file',
  usage: '<from>',
  async run(ctx) {
    const [from] = ctx.expectArgs(1, Number.POSITIVE_INFINITY) as [string];
    const c = await openTalosconfig(ctx, { create: true });
    let other;
    try {
      other = await loadTalosconfig(from);
    } catch (e) {
      throw new Error(`error reading config: ${(e as Error).message}`, { cause: e });
    }
    for (const r of mergeTalosconfig(c.config, other)) ctx.err(`renamed talosconfig context ${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}\n`);
    await saveTalosconfig(c);
    return 0;
  },
};
