import { status } from '@grpc/grpc-js';
import { NodeError, RpcError, statusName } from '../client/errors.js';

/**
 * Transport failures as the words a user knows, matched on what grpc-js and Node's TLS put into the details of an
 * Unavailable status (apid passes a peer's failure on in the same words).
 */
const TRANSPORT_CAUSES: [RegExp, string][] = [
  [/ECONNREFUSED|connection refused/i, 'connection refused'],
  [/EHOSTUNREACH|no route to host/i, 'no route to host'],
  [/ENETUNREACH/, 'network is unreachable'],
  [/ENOTFOUND|EAI_AGAIN/, 'no such host'],
  [/ECONNRESET/, 'connection reset by peer'],
  [/ETIMEDOUT/, 'connection timed out'],
  [/alert certificate expired|sslv3 alert certificate expired/i, 'the client certificate was refused: it has expired'],
  [/alert (bad|unsupported) certificate|alert unknown ca|certificate required|alert certificate unknown/i, 'the client certificate was refused'],
  [/CERT_HAS_EXPIRED|certificate has expired/i, "the server's certificate has expired"],
  [/self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|unable to get local issuer/i, "the server's certificate is not signed by the talosconfig's CA"],
  [/ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/i, "the server's certificate does not name this address"],
  [/wrong version number|packet length too long|ERR_SSL/i, 'the endpoint does not speak TLS (or not the Talos API)'],
];

/** The cause of a transport failure in a few words, or undefined when it is not one. */
function transportCause(details: string): string | undefined {
  for (const [re, cause] of TRANSPORT_CAUSES) if (re.test(details)) return cause;
  return undefined;
}

/** The text of a server's error, without the status wrapping a remote apid adds when it passes the error on. */
function serverCause(code: number | undefined, details: string): string {
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === undefined) {
    const t = transportCause(details);
    if (t) return t;
    if (code === status.DEADLINE_EXCEEDED || /deadline exceeded/i.test(details)) return 'timed out';
  }
  // a peer's error comes back as "rpc error: code = X desc = Y": show it once
  if (/^rpc error: code = /.test(details)) {
    const inner = /^rpc error: code = (\w+) desc = ([\s\S]*)$/.exec(details)!;
    const t = transportCause(inner[2]!);
    if (t) return t;
    return details;
  }
  return code === undefined ? details : `rpc error: code = ${statusName(code)} desc = ${details}`;
}

/** One line for a node that failed: `node 10.5.0.3: connection refused`. */
export function nodeFailure(node: string, e: unknown): string {
  if (e instanceof NodeError) return `node ${e.node}: ${causeOf(e)}`;
  return `node ${node}: ${causeOf(e)}`;
}

/** The cause of a failure in a few words, without naming where it happened (the caller names the node). */
export function causeOf(e: unknown): string {
  if (e instanceof NodeError) return serverCause(e.grpcCode, e.message.slice(e.node.length + 2));
  if (e instanceof RpcError) return serverCause(e.grpcCode, e.details);
  return e instanceof Error ? e.message : String(e);
}

/** The host a transport failure names (`connect ECONNREFUSED 10.5.0.3:50000`), if any. */
function failedAddress(details: string): string | undefined {
  return /\b(?:ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET) ([^\s),]+)/.exec(details)?.[1]?.replace(/\.$/, '');
}

/**
 * One line for any error a command ends with. Calls that never reached a node name the endpoint they tried; a node's
 * own failure names the node (`nodeFailure`).
 */
export function describeError(e: unknown): string {
  if (e instanceof NodeError) return nodeFailure(e.node, e);
  if (e instanceof RpcError) {
    const cause = serverCause(e.grpcCode, e.details);
    const transport = e.grpcCode === status.UNAVAILABLE || e.grpcCode === status.DEADLINE_EXCEEDED;
    if (transport && e.endpoint && !e.details.includes('; ')) {
      // the endpoint answered, but the node it proxied to did not: name that node
      const addr = failedAddress(e.details);
      if (addr && addr !== e.endpoint) return `node ${addr.replace(/:\d+$/, '')}: ${cause}`;
      return `endpoint ${e.endpoint}: ${cause}`;
    }
    if (transport && e.details.includes('; ')) {
      // every endpoint was tried: name each with its cause
      return e.details
        .split('; ')
        .map((part) => {
          const at = part.indexOf(': ');
          return at < 0 ? part : `endpoint ${part.slice(0, at)}: ${serverCause(e.grpcCode, part.slice(at + 2))}`;
        })
        .join('; ');
    }
    return cause;
  }
  return e instanceof Error ? e.message : String(e);
}
