import { stringify } from 'yaml';
import type { CommandContext } from '../command.js';
import { UsageError } from '../flags.js';

/** The `-o/--output` flag every command that prints data accepts for machine-readable output. */
export const outputFlag = { name: 'output', short: 'o', kind: 'string' as const, description: 'output format: table (default), json or yaml', default: 'table' };

export type OutputFormat = 'table' | 'json' | 'yaml';

/** The `--output` value, checked against the formats the command has (the first is the default). */
export function outputFormat<F extends string = OutputFormat>(ctx: CommandContext, allowed: readonly F[] = ['table', 'json', 'yaml'] as unknown as F[]): F {
  const f = ctx.string('output') ?? allowed[0]!;
  if (!(allowed as readonly string[]).includes(f)) throw new UsageError(`--output: unknown format "${f}" (one of: ${allowed.join(', ')})`);
  return f as F;
}

/**
 * Prints answers one at a time, as they arrive: JSON as one indented object per node and message, YAML as documents
 * separated by `---`. Each object starts with the node it came from.
 */
export function structuredPrinter(ctx: CommandContext, format: 'json' | 'yaml'): (node: string, value: unknown) => void {
  let first = true;
  return (node, value) => {
    const doc = value !== null && typeof value === 'object' && !Array.isArray(value) ? { node, ...(value as object) } : { node, value };
    if (format === 'json') ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
    else ctx.out(`${first ? '' : '---\n'}${stringify(doc, { lineWidth: 0 })}`);
    first = false;
  };
}

/** Prints a list of answers as JSON (one indented object per node) or YAML (documents separated by `---`). */
export function printStructured(ctx: CommandContext, format: 'json' | 'yaml', items: { node: string; value: unknown }[]): void {
  const print = structuredPrinter(ctx, format);
  for (const { node, value } of items) print(node, value);
}

/** Prints local data (no node involved) as JSON objects or YAML documents. */
export function printDocuments(ctx: CommandContext, format: 'json' | 'yaml', docs: unknown[]): void {
  if (format === 'json') for (const d of docs) ctx.out(`${JSON.stringify(d, null, 2)}\n`);
  else ctx.out(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
}

/**
 * The `-o/--output` flag of a command that prints no data of its own (apply-config, reboot, bootstrap, validate...):
 * text by default; json or yaml print what the command did, one document per node (starting with `node`) on stdout,
 * while the progress lines stay on stderr.
 */
export const resultOutputFlag = { name: 'output', short: 'o', kind: 'string' as const, description: 'output format: text (default), or json or yaml for the result (one document per node)', default: 'text' };

const resultPrinters = new WeakMap<CommandContext, (node: string | undefined, value: object) => void>();

/** The `-o` of a command with `resultOutputFlag`: undefined for text. Commands call it before they act, so a bad value changes nothing. */
export function resultFormat(ctx: CommandContext): 'json' | 'yaml' | undefined {
  const f = outputFormat(ctx, ['text', 'json', 'yaml'] as const);
  return f === 'text' ? undefined : f;
}

/** Where a command's text lines go: stdout, or stderr under `-o json|yaml` (stdout then carries the result documents). */
export function textLines(ctx: CommandContext): (text: string) => void {
  return resultFormat(ctx) === undefined ? (t) => ctx.out(t) : (t) => ctx.err(t);
}

/**
 * Prints one result document under `-o json|yaml` (nothing with text output): the node first when there is one. All
 * results of a command share one printer, so YAML documents are separated however many places report.
 */
export function printResult(ctx: CommandContext, node: string | undefined, value: object): void {
  const format = resultFormat(ctx);
  if (!format) return;
  let print = resultPrinters.get(ctx);
  if (!print) {
    let first = true;
    print = (n, v) => {
      const doc = n === undefined ? v : { node: n, ...v };
      if (format === 'json') ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
      else ctx.out(`${first ? '' : '---\n'}${stringify(doc, { lineWidth: 0 })}`);
      first = false;
    };
    resultPrinters.set(ctx, print);
  }
  print(node, value);
}
