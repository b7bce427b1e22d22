import type { Data } from '../../api/gen/common/common.js';
import { nodeErrorOf } from '../../client/results.js';
import type { CommandContext } from '../command.js';
import { nodeFailure } from '../errors.js';
import { structuredPrinter } from './format.js';

/**
 * Prints a stream of byte chunks (Logs, Dmesg) as lines prefixed with their node, as talosctl does: chunks of each
 * node are joined and cut at line ends, so lines of different nodes never mix. A node's error goes to stderr.
 * Returns whether any node failed.
 */
export async function printLines(ctx: CommandContext, stream: AsyncIterable<Data>, fallbackNode: string, format: 'text' | 'json' | 'yaml'): Promise<boolean> {
  const partial = new Map<string, string>();
  let failed = false;
  const yaml = format === 'yaml' ? structuredPrinter(ctx, 'yaml') : undefined;
  const emit = (node: string, line: string) => (yaml ? yaml(node, { message: line }) : ctx.out(format === 'json' ? `${JSON.stringify({ node, message: line })}\n` : `${node}: ${line}\n`));
  for await (const d of stream) {
    if (d.metadata?.error) {
      ctx.err(`error: ${nodeFailure(d.metadata.hostname || fallbackNode, nodeErrorOf(d)!)}\n`);
      failed = true;
      continue;
    }
    const node = d.metadata?.hostname || fallbackNode;
    const text = (partial.get(node) ?? '') + Buffer.from(d.bytes).toString('utf8');
    const lines = text.split('\n');
    partial.set(node, lines.pop()!);
    for (const line of lines) emit(node, line);
  }
  for (const [node, rest] of partial) if (rest !== '') emit(node, rest);
  return failed;
}
