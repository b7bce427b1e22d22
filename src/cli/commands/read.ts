import { nodeErrorOf } from '../../client/results.js';
import type { Command } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

export const readCommand: Command = {
  name: 'read',
  aliases: ['cat'],
  summary: 'Read a file on the machine',
  usage: '<path>',
  flags: [resultOutputFlag],
  async run(ctx) {
    const [path] = ctx.expectArgs(1);
    const structured = resultFormat(ctx) !== undefined;
    return withClient(ctx, async (conn) => {
      let failed = false;
      // with -o json|yaml: the file of each node as one document, once it is whole
      const contents = new Map<string, Buffer[]>();
      for await (const d of conn.client.machine.read({ path: path! }, { signal: ctx.io.signal })) {
        const err = nodeErrorOf(d);
        if (err) {
          ctx.err(`error: ${nodeFailure(err.node, err)}\n`);
          failed = true;
          continue;
        }
        if (!structured) {
          ctx.io.stdout.write(d.bytes);
          continue;
        }
        const node = d.metadata?.hostname || defaultNode(conn);
        contents.set(node, [...(contents.get(node) ?? []), Buffer.from(d.bytes)]);
      }
      for (const [node, chunks] of contents) printResult(ctx, node, { path, content: Buffer.concat(chunks).toString('utf8') });
      return failed ? 1 : 0;
    });
  },
};
