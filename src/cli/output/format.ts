import { stringify } from 'yaml';
import type { CommandContext } from '../command.js';
import { UsageError } from '../flags.js';

/** The `-o/--output` flag every command accepts for machine-readable output. */
export const outputFlag = { name: 'output', short: 'o', kind: 'string' as const, description: 'output format: table (default), json or yaml', default: 'table' };

export type OutputFormat = 'table' | 'json' | 'yaml';

export function outputFormat(ctx: CommandContext, allowed: readonly string[] = ['table', 'json', 'yaml']): OutputFormat {
  const f = ctx.string('output') ?? 'table';
  if (!allowed.includes(f)) throw new UsageError(`--output: unknown format "${f}" (one of: ${allowed.join(', ')})`);
  return f as OutputFormat;
}

/** Prints answers as JSON (one indented object per node) or YAML (documents separated by `---`). */
export function printStructured(ctx: CommandContext, format: 'json' | 'yaml', items: { node: string; value: unknown }[]): void {
  if (format === 'json') {
    for (const { node, value } of items) ctx.out(`${JSON.stringify({ node, ...(value as object) }, null, 2)}\n`);
    return;
  }
  ctx.out(items.map(({ node, value }) => stringify({ node, ...(value as object) }, { lineWidth: 0 })).join('---\n'));
}
