import { Memory } from '../../api/gen/machine/machine.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

// /proc/meminfo names of MemInfo's fields, in order, for the verbose view
const VERBOSE: [string, string][] = [
  ['MemTotal', 'memtotal'], ['MemFree', 'memfree'], ['MemAvailable', 'memavailable'], ['Buffers', 'buffers'], ['Cached', 'cached'],
  ['SwapCached', 'swapcached'], ['Active', 'active'], ['Inactive', 'inactive'], ['ActiveAnon', 'activeanon'], ['InactiveAnon', 'inactiveanon'],
  ['ActiveFile', 'activefile'], ['InactiveFile', 'inactivefile'], ['Unevictable', 'unevictable'], ['Mlocked', 'mlocked'], ['SwapTotal', 'swaptotal'],
  ['SwapFree', 'swapfree'], ['Dirty', 'dirty'], ['Writeback', 'writeback'], ['AnonPages', 'anonpages'], ['Mapped', 'mapped'], ['Shmem', 'shmem'],
  ['Slab', 'slab'], ['SReclaimable', 'sreclaimable'], ['SUnreclaim', 'sunreclaim'], ['KernelStack', 'kernelstack'], ['PageTables', 'pagetables'],
  ['NFSUnstable', 'nfsunstable'], ['Bounce', 'bounce'], ['WritebackTmp', 'writebacktmp'], ['CommitLimit', 'commitlimit'], ['CommittedAS', 'committedas'],
  ['VmallocTotal', 'vmalloctotal'], ['VmallocUsed', 'vmallocused'], ['VmallocChunk', 'vmallocchunk'], ['HardwareCorrupted', 'hardwarecorrupted'],
  ['AnonHugePages', 'anonhugepages'], ['ShmemHugePages', 'shmemhugepages'], ['ShmemPmdMapped', 'shmempmdmapped'], ['CmaTotal', 'cmatotal'],
  ['CmaFree', 'cmafree'], ['HugePagesTotal', 'hugepagestotal'], ['HugePagesFree', 'hugepagesfree'], ['HugePagesRsvd', 'hugepagesrsvd'],
  ['HugePagesSurp', 'hugepagessurp'], ['Hugepagesize', 'hugepagesize'], ['DirectMap4k', 'directmap4k'], ['DirectMap2M', 'directmap2m'], ['DirectMap1G', 'directmap1g'],
];

export const memoryCommand: Command = {
  name: 'memory',
  aliases: ['m', 'free'],
  summary: 'Show memory usage',
  flags: [{ name: 'verbose', short: 'v', kind: 'bool', description: 'display extended memory statistics' }, outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.memory(), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Memory.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      // 64-bit counters arrive as decimal strings
      const n = (v: string | undefined) => BigInt(v ?? '0');
      if (ctx.bool('verbose')) {
        for (const { node, value } of items) {
          const mi = (value.meminfo ?? {}) as unknown as Record<string, string>;
          ctx.out(`NODE: ${node}\n${VERBOSE.map(([label, key]) => `${label}: ${mi[key] ?? '0'} kB\n`).join('')}\n`);
        }
        return failed ? 1 : 0;
      }
      const rows = [['NODE', 'TOTAL', 'USED', 'FREE', 'SHARED', 'BUFFERS', 'CACHE', 'AVAILABLE']];
      for (const { node, value } of items) {
        const m = value.meminfo;
        const total = n(m?.memtotal);
        const used = total - n(m?.memfree) - n(m?.cached) - n(m?.buffers);
        rows.push([node, ...[total, used, n(m?.memfree), n(m?.shmem), n(m?.buffers), n(m?.cached), n(m?.memavailable)].map((x) => String(x / 1024n))]);
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
