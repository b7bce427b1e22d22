import { ContainerDriver, ContainerdNamespace, type ContainerdInstance } from '../../api/gen/common/common.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { UsageError } from '../flags.js';
import { tabulate } from '../output/tabwriter.js';

const namespaceFlag = { name: 'namespace', kind: 'string' as const, description: 'namespace to use: `system` (etcd and kubelet images), `cri` for all Kubernetes workloads, `inmem` for in-memory containerd instance', default: 'cri' };

/** talosctl's `--namespace`: cri and system live in the CRI containerd, inmem is the system containerd. */
function instanceOf(ctx: CommandContext): ContainerdInstance {
  const ns = ctx.string('namespace') ?? 'cri';
  switch (ns) {
    case 'cri':
      return { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_CRI };
    case 'system':
      return { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_SYSTEM };
    case 'inmem':
      return { driver: ContainerDriver.CONTAINERD, namespace: ContainerdNamespace.NS_SYSTEM };
    default:
      throw new UsageError(`unsupported namespace "${ns}"`);
  }
}

/** go-humanize's Bytes: SI units, one decimal below 10. */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const v = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}

/** The nodes to ask one by one (ImageService answers carry no node metadata): `-n`, or the endpoint itself. */
const targets = (nodes: string[]) => (nodes.length > 0 ? nodes.map((n) => ({ node: n, opts: { node: n } })) : [{ node: '', opts: {} }]);

const listCommand: Command = {
  name: 'list',
  aliases: ['l', 'ls'],
  summary: "List images in the machine's container runtime",
  flags: [namespaceFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const containerd = instanceOf(ctx);
    return withClient(ctx, async (conn) => {
      const rows = [['NODE', 'IMAGE', 'DIGEST', 'SIZE', 'LABELS', 'CREATED']];
      let failed = false;
      for (const t of targets(conn.nodes)) {
        const node = t.node || defaultNode(conn);
        try {
          for await (const img of conn.client.image.list({ containerd }, { ...t.opts, signal: ctx.io.signal })) {
            const labels = Object.entries(img.labels ?? {})
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => `${k}=${v}`)
              .join(',');
            rows.push([node, img.name, img.digest, humanBytes(Number(img.size)), labels, img.createdAt ? img.createdAt.toISOString().replace(/\.\d+Z$/, 'Z') : '']);
          }
        } catch (e) {
          failed = true;
          ctx.err(`error: ${nodeFailure(node, e)}\n`);
        }
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};

const pullCommand: Command = {
  name: 'pull',
  aliases: ['p'],
  summary: "Pull an image into the machine's container runtime",
  usage: '<image>',
  flags: [namespaceFlag],
  async run(ctx) {
    const [ref] = ctx.expectArgs(1);
    const containerd = instanceOf(ctx);
    return withClient(ctx, async (conn) => {
      let failed = false;
      for (const t of targets(conn.nodes)) {
        const node = t.node || defaultNode(conn);
        try {
          let name = '';
          for await (const m of conn.client.image.pull({ containerd, imageRef: ref }, { ...t.opts, signal: ctx.io.signal })) if (m.name) name = m.name;
          ctx.out(`${node}: pulled image ${name}\n`);
        } catch (e) {
          failed = true;
          ctx.err(`error pulling image: ${nodeFailure(node, e)}\n`);
        }
      }
      return failed ? 1 : 0;
    });
  },
};

export const imageCommand: Command = {
  name: 'image',
  aliases: ['images'],
  summary: 'Manage container images',
  subcommands: [listCommand, pullCommand],
};
