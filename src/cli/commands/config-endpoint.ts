import type { Command } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configEndpointCommand: Command = {
  name: 'endpoint',
  aliases: ['endpoints'],
  summary: 'Set the endpoint(s) for the current context',
  usage: '<endpoint>...',
  flags: [resultOutputFlag],
  async run(ctx) {
    const endpoints = ctx.expectArgs(1, Number.POSITIVE_INFINITY).map((a) => a.trim());
    resultFormat(ctx);
    const c = await openTalosconfig(ctx);
    const selected = selectedContext(ctx, c);
    selected.context.endpoints = endpoints;
    await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, context: selected.name, endpoints });
    return 0;
  },
};
