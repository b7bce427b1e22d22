import type { Command } from '../command.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configNodeCommand: Command = {
  name: 'node',
  aliases: ['nodes'],
  summary: 'Set the node(s) for the current context',
  usage: '<endpoint>...',
  async run(ctx) {
    const nodes = ctx.expectArgs(0, Number.POSITIVE_INFINITY).map((a) => a.trim());
    const c = await openTalosconfig(ctx);
    const { context } = selectedContext(ctx, c);
    if (nodes.length) context.nodes = nodes;
    else delete context.nodes;
    await saveTalosconfig(c);
    return 0;
  },
};
