import type { Command } from '../command.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configEndpointCommand: Command = {
  name: 'endpoint',
  aliases: ['endpoints'],
  summary: 'Set the endpoint(s) for the current context',
  usage: '<endpoint>...',
  async run(ctx) {
    const endpoints = ctx.expectArgs(1, Number.POSITIVE_INFINITY).map((a) => a.trim());
    const c = await openTalosconfig(ctx);
    selectedContext(ctx, c).context.endpoints = endpoints;
    await saveTalosconfig(c);
    return 0;
  },
};
