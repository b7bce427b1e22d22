import type { Client } from '../../client/client.js';
import type { WithMetadata } from '../../client/results.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';

/** A META key as talosctl reads it: an 8-bit unsigned number, decimal, `0x` hex, `0o` octal or `0b` binary. */
export function parseMetaKey(text: string): number {
  const t = text.replace(/_/g, '');
  const m = /^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|0[0-7]*|[1-9][0-9]*)$/i.exec(t);
  if (!m) throw new UsageError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  const lower = t.toLowerCase();
  const n = lower.startsWith('0x') || lower.startsWith('0o') || lower.startsWith('0b') ? Number(lower) : lower.length > 1 && lower.startsWith('0') ? Number.parseInt(lower, 8) : Number(lower);
  if (n > 255) throw new UsageError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`);
  return n;
}

const insecureFlag = { name: 'insecure', short: 'i', kind: 'bool' as const, description: 'write|delete meta using the insecure (encrypted with no auth) maintenance service' };

async function onEveryNode(ctx: CommandContext, call: (client: Client) => Promise<{ messages: WithMetadata[] }>): Promise<number> {
  return withClient(
    ctx,
    async (conn) => {
      const { failed } = perNode(ctx, await call(conn.client), defaultNode(conn));
      return failed ? 1 : 0;
    },
    { insecure: ctx.bool('insecure') },
  );
}

const metaWrite: Command = {
  name: 'write',
  summary: 'Write a key-value pair to the META partition.',
  usage: 'key value',
  flags: [insecureFlag],
  async run(ctx) {
    const [key, value] = ctx.expectArgs(2);
    const k = parseMetaKey(key!);
    return onEveryNode(ctx, (client) => client.machine.metaWrite({ key: k, value: Buffer.from(value!) }));
  },
};

const metaDelete: Command = {
  name: 'delete',
  summary: 'Delete a key from the META partition.',
  usage: 'key',
  flags: [insecureFlag],
  async run(ctx) {
    const [key] = ctx.expectArgs(1);
    const k = parseMetaKey(key!);
    return onEveryNode(ctx, (client) => client.machine.metaDelete({ key: k }));
  },
};

export const metaCommand: Command = {
  name: 'meta',
  summary: 'Write and delete keys in the META partition',
  subcommands: [metaWrite, metaDelete],
};
