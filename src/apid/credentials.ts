import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import { normalizeKeyPEM } from '../client/tls.js';

export interface ServerTLS {
  /** server certificate chain PEM */
  cert: string;
  /** server key PEM (Talos's `ED25519 PRIVATE KEY` label accepted) */
  key: string;
  /** PEM of the CAs whose client certificates are accepted; none in maintenance mode */
  acceptedCAs?: string;
}



function contextOptions(tls: ServerTLS): SecureContextOptions {
  return { cert: tls.cert, key: normalizeKeyPEM(tls.key), ca: tls.acceptedCAs || undefined, minVersion: 'TLSv1.3' };
}

/**
 * Server credentials whose certificate and accepted CAs can be replaced while the server runs: new handshakes use the
 * new material, open connections and streams are kept.
 */
export class ReloadableServerCredentials extends ServerCredentials {
  readonly requireClientCert: boolean;

  constructor(tls: ServerTLS, requireClientCert: boolean) {
    super({ requestCert: requireClientCert, rejectUnauthorized: requireClientCert }, contextOptions(tls));
    this.requireClientCert = requireClientCert;
  }

  update(tls: ServerTLS): void {
    this.updateSecureContextOptions(contextOptions(tls));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
