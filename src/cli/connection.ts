import { Client } from '../client/client.js';
import { nodeResults, type WithMetadata } from '../client/results.js';
import { clientOptionsFromContext } from '../client/from-talosconfig.js';
import { loadTalosconfig, resolveContext, talosconfigPath } from '../client/talosconfig.js';
import type { CommandContext } from './command.js';
import { UsageError } from './flags.js';

/** A client built from the global flags, and the nodes the command targets. */
export interface Connection {
  client: Client;
  /** the nodes given with `-n` or the context's nodes; empty means the endpoint itself */
  nodes: string[];
}

/**
 * Opens a client from the talosconfig (`--talosconfig`, `$TALOSCONFIG`, `~/.talos/config`), the context (`--context`
 * or the current one), and `-e`/`-n` overrides, as talosctl does. With `insecure`, talks to the nodes directly in
 * maintenance mode: no talosconfig, no client certificate, no server verification.
 */
export async function connect(ctx: CommandContext, opts: { insecure?: boolean } = {}): Promise<Connection> {
  const nodesFlag = ctx.list('nodes');
  const endpointsFlag = ctx.list('endpoints');
  if (opts.insecure) {
    const endpoints = endpointsFlag.length > 0 ? endpointsFlag : nodesFlag;
    if (endpoints.length === 0) throw new UsageError('--insecure needs the node to talk to: give --nodes (or --endpoints)');
    return { client: new Client({ endpoints, tls: { insecure: true }, nodes: [] }), nodes: [] };
  }
  const path = talosconfigPath(ctx.string('talosconfig'), ctx.io.env);
  const cfg = await loadTalosconfig(path);
  const context = resolveContext(cfg, ctx.string('context'));
  const options = clientOptionsFromContext(context, { endpoints: endpointsFlag, nodes: nodesFlag });
  if (options.endpoints.length === 0) {
    throw new UsageError(`no endpoints in context "${ctx.string('context') ?? cfg.context}" of ${path}: give --endpoints or run \`bronzectl config endpoint <ip>\``);
  }
  return { client: new Client(options), nodes: options.nodes ?? [] };
}

/** Runs `fn` with a connection and closes it after. */
export async function withClient<T>(ctx: CommandContext, fn: (conn: Connection) => Promise<T>, opts: { insecure?: boolean } = {}): Promise<T> {
  const conn = await connect(ctx, opts);
  try {
    return await fn(conn);
  } finally {
    conn.client.close();
  }
}

/**
 * Splits a (possibly fanned-out) unary response into per-node answers, printing one line per failed node on stderr
 * as talosctl does. Returns the answers and whether any node failed (the command then exits non-zero).
 */
export function perNode<T extends WithMetadata>(ctx: CommandContext, response: { messages: T[] }, fallbackNode: string): { items: { node: string; value: T }[]; failed: boolean } {
  const r = nodeResults(response);
  for (const e of r.errors) ctx.err(`error: ${e.message}\n`);
  return { items: r.messages.map((m) => ({ node: m.node ?? fallbackNode, value: m.value })), failed: r.errors.length > 0 };
}

/** The name to print for an answer that carries no metadata: the single node asked, or the endpoint. */
export function defaultNode(conn: Connection): string {
  if (conn.nodes.length === 1) return conn.nodes[0]!;
  const e = conn.client.endpoints[0];
  return e ? e.host : '';
}

