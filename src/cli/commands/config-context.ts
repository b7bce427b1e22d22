import type { Command } from '../command.js';
import { openTalosconfig, saveTalosconfig, selectedContext } from './config-shared.js';

export const configContextCommand: Command = {
  name: 'context',
  aliases: ['use-context'],
  summary: 'Set the current context',
  usage: '<context>',
  async run(ctx) {
    const [name] = ctx.expectArgs(1) as [string];
    const c = await openTalosconfig(ctx);
    selectedContext(ctx, c, name);
    c.config.context = name;
    await saveTalosconfig(c);
    return 0;
  },
};
