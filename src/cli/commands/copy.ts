import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { nodeErrorOf } from '../../client/results.js';
import type { Command } from '../command.js';
import { withClient } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { extractTarGz } from '../tar.js';

export const copyCommand: Command = {
  name: 'copy',
  aliases: ['cp'],
  summary: 'Copy data out from the node',
  usage: '<src-path> -|<local-path>',
  flags: [resultOutputFlag],
  async run(ctx) {
    const [src, local] = ctx.expectArgs(2);
    const structured = resultFormat(ctx) !== undefined;
    return withClient(ctx, async (conn) => {
      if (conn.nodes.length > 1) throw new UsageError('command "copy" is not supported with multiple nodes');
      const route = conn.nodes.length === 1 ? { node: conn.nodes[0]! } : { nodes: [] };
      const node = conn.nodes[0] ?? conn.client.endpoints[0]!.host;
      async function* bytes() {
        for await (const d of conn.client.machine.copy({ rootPath: src! }, { ...route, signal: ctx.io.signal })) {
          const err = nodeErrorOf(d);
          if (err) throw new Error(nodeFailure(node, err));
          yield Buffer.from(d.bytes);
        }
      }
      if (local === '-' && structured) {
        // the archive itself, base64 in the document
        const parts: Buffer[] = [];
        for await (const b of bytes()) parts.push(b);
        printResult(ctx, node, { source: src, archive: Buffer.concat(parts).toString('base64') });
        return 0;
      }
      if (local === '-') {
        for await (const b of bytes()) if (!ctx.io.stdout.write(b)) await new Promise((ok) => ctx.io.stdout.once('drain', ok));
        return 0;
      }
      const dest = resolve(local!);
      const st = await stat(dest).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw new Error(`failed to stat local path: ${e.message}`);
      });
      if (st && !st.isDirectory()) throw new UsageError(`local path "${local}" should be a directory`);
      if (!st) await mkdir(dest, { recursive: true });
      await extractTarGz(bytes(), dest);
      printResult(ctx, node, { source: src, destination: dest });
      return 0;
    });
  },
};
