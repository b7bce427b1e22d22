import type { Command } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configNodeCommand: Command = {
  name: 'node',
  aliases: ['nodes'],
  summary: 'Set the node(s) for the current context',
  usage: '<endpoint>...',
  flags: [resultOutputFlag],
  async run(ctx) {
    const nodes = ctx.expectArgs(0, Number.POSITIVE_INFINITY).map((a) => a.trim());
    resultFormat(ctx);
    const c = await openTalosconfig(ctx);
    const { name, context } = selectedContext(ctx, c);
    if (nodes.length) context.nodes = nodes;
    else delete context.nodes;
    await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, context: name, nodes });
    return 0;
  },
};
