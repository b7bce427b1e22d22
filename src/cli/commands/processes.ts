import { basename } from 'node:path';
import { Process, type ProcessInfo } from '../../api/gen/machine/machine.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { columnize, humanBytes } from '../output/humanize.js';

/** The command line as talosctl shows it: the executable's full path in place of argv[0] when they match. */
function commandLine(p: ProcessInfo): string {
  let args: string;
  if (p.executable === '') args = p.command;
  else if (p.args !== '' && p.args.split(/\s+/)[0] === basename(p.executable.split(/\s+/)[0]!)) args = p.args.replace(p.args.split(/\s+/)[0]!, p.executable);
  else args = p.args;
  return args.replace(/[^\x20-\x7e]/g, ' ');
}

export const processesCommand: Command = {
  name: 'processes',
  aliases: ['p', 'ps'],
  summary: 'List running processes',
  flags: [{ name: 'sort', short: 's', kind: 'string', description: 'Column to sort output by. [rss|cpu]', default: 'rss' }, outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const sort = ctx.string('sort') ?? 'rss';
    if (sort !== 'rss' && sort !== 'cpu') throw new UsageError(`--sort: unknown column "${sort}" (rss or cpu)`);
    const format = outputFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.processes(), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Process.toJSON(value) })));
        return failed ? 1 : 0;
      }
      const lines = [['NODE', 'PID', 'STATE', 'THREADS', 'CPU-TIME', 'VIRTMEM', 'RESMEM', 'LABEL', 'COMMAND']];
      for (const { node, value } of items) {
        const procs = [...value.processes].sort((a, b) => (sort === 'cpu' ? b.cpuTime - a.cpuTime : Number(BigInt(b.residentMemory) - BigInt(a.residentMemory))));
        for (const p of procs) {
          lines.push([node, String(p.pid), p.state, String(p.threads), p.cpuTime.toFixed(2), humanBytes(BigInt(p.virtualMemory)), humanBytes(BigInt(p.residentMemory)), p.label, commandLine(p)]);
        }
      }
      ctx.out(columnize(lines));
      return failed ? 1 : 0;
    });
  },
};
