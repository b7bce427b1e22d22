import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag, textLines } from '../output/format.js';
import { snapshotInfo } from './etcd.js';

/** The snapshot as a stream of `common.Data` messages. */
async function* chunks(path: string): AsyncGenerator<{ bytes: Buffer }> {
  for await (const bytes of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield { bytes: bytes as Buffer };
}

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  summary: 'Bootstrap the etcd cluster on the specified node.',
  flags: [
    { name: 'recover-from', kind: 'string', description: 'recover etcd cluster from the snapshot' },
    { name: 'recover-skip-hash-check', kind: 'bool', description: 'skip integrity check when recovering etcd (use when recovering from data directory copy)' },
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const recoverFrom = ctx.string('recover-from') ?? '';
    return withClient(ctx, async (conn) => {
      if (conn.nodes.length > 1) throw new UsageError('command "bootstrap" is not supported with multiple nodes');
      if (recoverFrom) {
        await access(recoverFrom);
        const info = await snapshotInfo(recoverFrom);
        if (info) textLines(ctx)(`recovering from snapshot ${JSON.stringify(recoverFrom)}: hash ${(info.hash >>> 0).toString(16).padStart(8, '0')}, revision ${info.revision}, total keys ${info.totalKey}, total size ${info.totalSize}\n`);
        try {
          // a client stream goes to one node: routed one-to-one (apid proxies client streams to a single target only)
          await conn.client.machine.etcdRecover(chunks(recoverFrom), conn.nodes.length === 1 ? { node: conn.nodes[0] } : {});
        } catch (e) {
          throw new Error(`error uploading snapshot: ${(e as Error).message}`);
        }
      }
      let r;
      try {
        r = await conn.client.machine.bootstrap({ recoverEtcd: recoverFrom !== '', recoverSkipHashCheck: ctx.bool('recover-skip-hash-check') });
      } catch (e) {
        throw new Error(`error executing bootstrap: ${(e as Error).message}`);
      }
      const { items, failed } = perNode(ctx, r, defaultNode(conn));
      for (const { node } of items) printResult(ctx, node, { bootstrapped: true, recovered: recoverFrom !== '' });
      return failed ? 1 : 0;
    });
  },
};
