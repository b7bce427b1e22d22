import type { PeerCertificate } from 'node:tls';
import { type Metadata, status } from '@grpc/grpc-js';
import { isAuthorized, parseRoles, ROLE_METADATA_KEY, Role } from '../api/roles.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export interface CallerIdentity {
  roles: string[];
  /** the certificate subject, for logs */
  subject: string;
}

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
 * The caller's roles from its verified client certificate: the subject's Organization values. A certificate whose
 * extended key usage is not exactly client auth is refused (trustd-signed server certificates must never act as
 * clients). A caller holding `os:impersonator` (another apid forwarding a call) speaks for the roles in `talos-role`.
 */
export function identify(cert: PeerCertificate | undefined, metadata: Metadata): CallerIdentity {
  if (!cert || Object.keys(cert).length === 0) throw new AuthError(status.UNAUTHENTICATED, 'no client certificate');
  const subject = subjectString(cert);
  const eku = cert.ext_key_usage ?? [];
  if (eku.length !== 1 || eku[0] !== CLIENT_AUTH_OID) {
    throw new AuthError(status.UNAUTHENTICATED, `certificate "${subject}" is missing the client auth extended key usage`);
  }
  let roles = parseRoles(asList(cert.subject?.O as string | string[] | undefined));
  if (roles.includes(Role.Impersonator)) {
    const claimed = metadata.get(ROLE_METADATA_KEY).map(String);
    if (claimed.length > 0) roles = parseRoles(claimed.flatMap((c) => c.split(',')));
  }
  return { roles, subject };
}

/** Throws PermissionDenied `not authorized` unless the roles may call the method. */
export function authorize(method: string, roles: string[], maintenance: boolean): void {
  if (!isAuthorized(method, roles, { maintenance })) throw new AuthError(status.PERMISSION_DENIED, 'not authorized');
}
