import type { PeerCertificate } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { isAuthorized, parseRoles, Role } from '../api/roles.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export class AuthError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function subjectString(cert: PeerCertificate): string {
  const s = cert.subject ?? {};
  return Object.entries(s)
    .flatMap(([k, v]) => asList(v as string | string[]).map((x) => `${k}=${x}`))
    .join(',');
}

/**
 * The roles a verified client certificate carries: the subject's Organization values. A certificate whose extended
 * key usage is not exactly client auth is refused (trustd-signed server certificates must never act as clients).
 * Worked out once per connection.
 */
export function certificateRoles(cert: PeerCertificate | undefined): string[] {
  if (!cert || Object.keys(cert).length === 0) throw new AuthError(status.UNAUTHENTICATED, 'no client certificate');
  const eku = cert.ext_key_usage ?? [];
  if (eku.length !== 1 || eku[0] !== CLIENT_AUTH_OID) {
    throw new AuthError(status.UNAUTHENTICATED, `certificate "${subjectString(cert)}" is missing the client auth extended key usage`);
  }
  return parseRoles(asList(cert.subject?.O as string | string[] | undefined));
}

/**
 * The roles a call runs with: the certificate's, except that a caller holding `os:impersonator` (another apid
 * forwarding a call) speaks for the roles in `talos-role` (one header per role, or comma-separated).
 */
export function callRoles(certRoles: string[], claimed: string | string[] | undefined): string[] {
  if (!certRoles.includes(Role.Impersonator) || claimed === undefined) return certRoles;
  // no header at all: a real user holding the impersonator role; a header, even an empty one, names the roles
  if (Array.isArray(claimed) && claimed.length === 0) return certRoles;
  // the same few role lists come with every forwarded call: each is parsed once
  const key = typeof claimed === 'string' ? claimed : claimed.join(',');
  let roles = claimedRoles.get(key);
  if (roles === undefined) {
    if (claimedRoles.size >= CLAIMED_MAX) claimedRoles.clear();
    roles = Object.freeze(parseRoles(key.split(','))) as string[];
    claimedRoles.set(key, roles);
  }
  return roles;
}

const claimedRoles = new Map<string, string[]>();
const CLAIMED_MAX = 256;

/** the roles of a list as a set, for the lists callers keep (a connection's, a claimed list's) */
const heldSets = new WeakMap<string[], ReadonlySet<string>>();

/** Throws PermissionDenied `not authorized` unless the roles may call the method. */
export function authorize(method: string, roles: string[], maintenance: boolean): void {
  let held = heldSets.get(roles);
  if (held === undefined) {
    held = new Set(roles);
    heldSets.set(roles, held);
  }
  if (!isAuthorized(method, held, { maintenance })) throw new AuthError(status.PERMISSION_DENIED, 'not authorized');
}
