import { loadTalosconfig, mergeTalosconfig } from '../../client/talosconfig.js';
import type { Command } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig } from './config-shared.js';

export const configMergeCommand: Command = {
  name: 'merge',
  summary: 'Merge additional contexts from another client configuration file',
  usage: '<from>',
  flags: [resultOutputFlag],
  async run(ctx) {
    const [from] = ctx.expectArgs(1, Number.POSITIVE_INFINITY) as [string];
    resultFormat(ctx);
    const c = await openTalosconfig(ctx, { create: true });
    let other;
    try {
      other = await loadTalosconfig(from);
    } catch (e) {
      throw new Error(`error reading config: ${(e as Error).message}`, { cause: e });
    }
    const renamed = mergeTalosconfig(c.config, other);
    for (const r of renamed) ctx.err(`renamed talosconfig context ${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}\n`);
    await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, merged: from, contexts: Object.keys(c.config.contexts), renamed: renamed.map((r) => ({ from: r.from, to: r.to })) });
    return 0;
  },
};
