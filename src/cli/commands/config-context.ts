import type { Command } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configContextCommand: Command = {
  name: 'context',
  aliases: ['use-context'],
  summary: 'Set the current context',
  usage: '<context>',
  flags: [resultOutputFlag],
  async run(ctx) {
    const [name] = ctx.expectArgs(1) as [string];
    resultFormat(ctx);
    const c = await openTalosconfig(ctx);
    selectedContext(ctx, c, name);
    c.config.context = name;
    await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, context: name, current: true });
    return 0;
  },
};
