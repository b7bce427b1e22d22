import type { Command } from '../command.js';
import { outputFlag, outputFormat, printDocuments } from '../output/format.js';
import { openTalosconfig } from './config-shared.js';

/** Text columns as Go's tabwriter with padding 3. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

export const configContextsCommand: Command = {
  name: 'contexts',
  aliases: ['get-contexts'],
  summary: 'List defined contexts',
  flags: [outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    const c = await openTalosconfig(ctx, { create: true });
    if (format !== 'table') {
      const names = Object.keys(c.config.contexts).sort();
      const docs = names.map((name) => ({ current: name === c.config.context, name, endpoints: c.config.contexts[name]!.endpoints, nodes: c.config.contexts[name]!.nodes ?? [] }));
      printDocuments(ctx, format, docs);
      return 0;
    }
    const rows = [['CURRENT', 'NAME', 'ENDPOINTS', 'NODES']];
    for (const name of Object.keys(c.config.contexts).sort()) {
      const context = c.config.contexts[name]!;
      const nodes = context.nodes ?? [];
      rows.push([name === c.config.context ? '*' : '', name, context.endpoints.join(','), nodes.length > 3 ? `${nodes.slice(0, 3).join(',')}...` : nodes.join(',')]);
    }
    ctx.out(table(rows));
    return 0;
  },
};
