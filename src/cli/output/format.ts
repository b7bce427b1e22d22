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

/** A duration as Go prints it, rounded to seconds: `1h2m3s`, `4m0s`, `5s`. */
export function goDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
