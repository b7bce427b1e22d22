import { X509Certificate } from 'node:crypto';
import { Client } from '../client/client.js';
import { nodeResults, type WithMetadata } from '../client/results.js';
import { clientOptionsFromContext } from '../client/from-talosconfig.js';
import { loadTalosconfig, resolveContext, talosconfigPath } from '../client/talosconfig.js';
import type { CommandContext } from './command.js';
import { nodeFailure } from './errors.js';
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
  checkValidity(options.tls.crt, ctx.string('context') ?? cfg.context, path);
  return { client: new Client(options), nodes: options.nodes ?? [] };
}

/**
 * Refuses a client certificate outside its validity period before any call: the node would only drop the handshake,
 * and the user could not tell why.
 */
function checkValidity(pem: string | Buffer | undefined, context: string, path: string): void {
  if (!pem) return;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new Error(`the client certificate of context "${context}" in ${path} cannot be read: ${(e as Error).message}`);
  }
  const now = Date.now();
  const iso = (d: string) => new Date(d).toISOString().replace(/\.000Z$/, 'Z');
  if (Date.parse(cert.validTo) < now) throw new Error(`the client certificate of context "${context}" in ${path} expired at ${iso(cert.validTo)}`);
  if (Date.parse(cert.validFrom) > now) throw new Error(`the client certificate of context "${context}" in ${path} is not valid before ${iso(cert.validFrom)}: check this machine's clock`);
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
  for (const e of r.errors) ctx.err(`error: ${nodeFailure(e.node, e)}\n`);
  return { items: r.messages.map((m) => ({ node: m.node ?? fallbackNode, value: m.value })), failed: r.errors.length > 0 };
}

/** The name to print for an answer that carries no metadata: the single node asked, or the endpoint. */
export function defaultNode(conn: Connection): string {
  if (conn.nodes.length === 1) return conn.nodes[0]!;
  const e = conn.client.endpoints[0];
  return e ? e.host : '';
}

