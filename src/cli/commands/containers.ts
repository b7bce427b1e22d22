import { ContainerDriver } from '../../api/gen/common/common.js';
import { Container } from '../../api/gen/machine/machine.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import type { FlagSpec } from '../flags.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

/** `-k`: Kubernetes' containers through the CRI; otherwise the system namespace through containerd (as talosctl). */
export const kubernetesFlag: FlagSpec = { name: 'kubernetes', short: 'k', kind: 'bool', description: 'use the k8s.io containerd namespace' };

export function containerTarget(ctx: CommandContext): { namespace: string; driver: ContainerDriver } {
  return ctx.bool('kubernetes') ? { namespace: 'k8s.io', driver: ContainerDriver.CRI } : { namespace: 'system', driver: ContainerDriver.CONTAINERD };
}

export const containersCommand: Command = {
  name: 'containers',
  aliases: ['c'],
  summary: 'List containers',
  flags: [kubernetesFlag, outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.containers(containerTarget(ctx)), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Container.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      const rows = [['NODE', 'NAMESPACE', 'ID', 'IMAGE', 'PID', 'STATUS']];
      for (const { node, value } of items) {
        for (const c of [...value.containers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
          // a container inside a pod sandbox is shown under it
          rows.push([node, c.namespace, c.id !== c.podId ? `└─ ${c.id}` : c.id, c.image, String(c.pid), c.status]);
        }
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
