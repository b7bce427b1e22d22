import { status } from '@grpc/grpc-js';

/** Where apid sends a call. */
export type Route =
  | { kind: 'local' }
  | { kind: 'one'; target: string }
  | { kind: 'many'; targets: string[] }
  | { kind: 'error'; code: status; message: string };

export interface DirectorOptions {
  /** maintenance mode, or routing switched off: everything goes to the local machined */
  routingDisabled: boolean;
  /** whether this apid can reach peers (it holds a client certificate; control planes only) */
  canForward: boolean;
  /** whether a target names this node (one of its addresses, its hostname or FQDN) */
  isLocal(target: string): boolean;
}

/** Method prefixes that may be fanned out: the services whose responses carry the per-node envelope. */
export const FANOUT_PREFIXES = [
  '/machine.MachineService/',
  '/cluster.ClusterService/',
  '/inspect.InspectService/',
  '/storage.StorageService/',
  '/time.TimeService/',
];

/**
 * Node's HTTP/2 joins repeated headers into one comma-separated value (`nodes: a, b`); Go clients may also send one
 * header per node. Both become a flat list here.
 */
export function splitNodes(values: readonly (string | Buffer)[]): string[] {
  return values
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Decides where a call goes from its metadata, in Talos's order of rules. */
export function route(method: string, get: (key: string) => readonly (string | Buffer)[], opts: DirectorOptions): Route {
  if (opts.routingDisabled) return { kind: 'local' };
  if (get('proxyfrom').length > 0) return { kind: 'local' };
  const nodeValues = get('node');
  const node = splitNodes(nodeValues);
  const nodes = splitNodes(get('nodes'));
  if (nodeValues.length > 0 && node.length !== 1) {
    return { kind: 'error', code: status.INVALID_ARGUMENT, message: 'node metadata must be single-valued' };
  }
  if (!opts.canForward) {
    if (node.length === 1 && opts.isLocal(node[0]!)) return { kind: 'local' };
    if (node.length === 0 && nodes.length === 1 && opts.isLocal(nodes[0]!)) return { kind: 'local' };
  }
  if (nodes.length > 0 && node.length === 0) {
    if (!FANOUT_PREFIXES.some((p) => method.startsWith(p))) {
      return { kind: 'error', code: status.INVALID_ARGUMENT, message: `one-2-many proxying is not supported for method ${method}` };
    }
    if (!opts.canForward) return { kind: 'error', code: status.PERMISSION_DENIED, message: 'no request forwarding' };
    return { kind: 'many', targets: nodes };
  }
  if (node.length === 1) {
    if (!opts.canForward) return { kind: 'error', code: status.PERMISSION_DENIED, message: 'no request forwarding' };
    return { kind: 'one', target: node[0]! };
  }
  return { kind: 'local' };
}
