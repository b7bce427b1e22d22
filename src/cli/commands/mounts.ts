import { Mounts } from '../../api/gen/machine/machine.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

export const mountsCommand: Command = {
  name: 'mounts',
  aliases: ['mount'],
  summary: 'List mounts',
  flags: [outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.mounts(), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Mounts.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      const rows = [['NODE', 'FILESYSTEM', 'SIZE(GB)', 'USED(GB)', 'AVAILABLE(GB)', 'PERCENT USED', 'MOUNTED ON']];
      for (const { node, value } of items) {
        for (const st of value.stats) {
          const size = Number(st.size);
          const avail = Number(st.available);
          const pct = 100 - (100 * avail) / size;
          // as talosctl: filesystems without a size (pseudo filesystems) are left out
          if (Number.isNaN(pct)) continue;
          rows.push([node, st.filesystem, (size * 1e-9).toFixed(2), ((size - avail) * 1e-9).toFixed(2), (avail * 1e-9).toFixed(2), `${pct.toFixed(2)}%`, st.mountedOn]);
        }
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
