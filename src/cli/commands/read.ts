import type { Command } from '../command.js';
import { withClient } from '../connection.js';

export const readCommand: Command = {
  name: 'read',
  aliases: ['cat'],
  summary: 'Read a file on the machine',
  usage: '<path>',
  async run(ctx) {
    const [path] = ctx.expectArgs(1);
    return withClient(ctx, async (conn) => {
      let failed = false;
      for await (const d of conn.client.machine.read({ path }, { signal: ctx.io.signal })) {
        if (d.metadata?.error) {
          ctx.err(`error: ${d.metadata.hostname ? `${d.metadata.hostname}: ` : ''}${d.metadata.error}\n`);
          failed = true;
          continue;
        }
        ctx.io.stdout.write(d.bytes);
      }
      return failed ? 1 : 0;
    });
  },
};
