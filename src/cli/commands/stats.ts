import { Stats } from '../../api/gen/machine/machine.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';
import { containerTarget, kubernetesFlag } from './containers.js';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Get container stats',
  flags: [kubernetesFlag, outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.stats(containerTarget(ctx)), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Stats.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      const rows = [['NODE', 'NAMESPACE', 'ID', 'MEMORY(MB)', 'CPU']];
      for (const { node, value } of items) {
        for (const s of [...value.stats].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
          rows.push([node, s.namespace, s.id !== s.podId ? `└─ ${s.id}` : s.id, (Number(s.memoryUsage) * 1e-6).toFixed(2), s.cpuUsage]);
        }
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
