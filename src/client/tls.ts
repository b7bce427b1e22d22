import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { ClientError } from './errors.js';

/** PEM material of a client identity and the CA that signs the servers. */
export interface ClientTLS {
  /** PEM of the CA(s) the server certificate must chain to */
  ca?: string | Buffer;
  /** client certificate PEM */
  crt?: string | Buffer;
  /** client key PEM; Talos's `ED25519 PRIVATE KEY` label is accepted */
  key?: string | Buffer;
  /** maintenance mode: no client certificate, and the server certificate is not verified */
  insecure?: boolean;
}

/**
 * Talos writes Ed25519 keys as PKCS#8 under the label `ED25519 PRIVATE KEY`, which OpenSSL does not know:
 * the body is plain PKCS#8, so it loads under the standard `PRIVATE KEY` label.
 */
export function normalizeKeyPEM(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');
}

/** Decodes a base64 PEM field of a talosconfig (or passes PEM through unchanged). */
export function decodePEMField(value: string, what: string): string {
  const t = value.trim();
  if (t.startsWith('-----BEGIN')) return t;
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  if (!decoded.includes('-----BEGIN')) {
    throw new ClientError('BRONZE_CLIENT_CREDENTIALS', `${what} is neither PEM nor base64-encoded PEM`);
  }
  return decoded;
}

const text = (v: string | Buffer | undefined) => (v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : v);

/** Builds grpc-js channel credentials: TLS 1.3, server verified against `ca`, client certificate when given. */
export function channelCredentials(tls: ClientTLS): ChannelCredentials {
  if (tls.insecure) {
    const ctx = createSecureContext({ minVersion: 'TLSv1.2' });
    return credentials.createFromSecureContext(ctx, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  }
  const ca = text(tls.ca);
  const crt = text(tls.crt);
  const key = text(tls.key);
  if (!ca) throw new ClientError('BRONZE_CLIENT_CREDENTIALS', 'no CA certificate: the server cannot be verified (set `ca` in the talosconfig context)');
  if ((crt === undefined) !== (key === undefined)) {
    throw new ClientError('BRONZE_CLIENT_CREDENTIALS', 'a client certificate needs both `crt` and `key`');
  }
  checkCertificates(ca, 'CA certificate (`ca`)');
  if (crt) checkCertificates(crt, 'client certificate (`crt`)');
  if (key) {
    try {
      createPrivateKey(normalizeKeyPEM(key));
    } catch (e) {
      throw new ClientError('BRONZE_CLIENT_CREDENTIALS', `client key (\`key\`) is not a valid PEM private key: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    const ctx = createSecureContext({
      minVersion: 'TLSv1.3',
      ca,
      ...(crt && key ? { cert: crt, key: normalizeKeyPEM(key) } : {}),
    });
    return credentials.createFromSecureContext(ctx);
  } catch (e) {
    throw new ClientError('BRONZE_CLIENT_CREDENTIALS', `invalid client TLS material: ${(e as Error).message}`, { cause: e });
  }
}

/** Parses every certificate of a PEM bundle, so bad material fails here with a clear message, not at the handshake. */
function checkCertificates(pem: string, what: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new ClientError('BRONZE_CLIENT_CREDENTIALS', `${what} holds no PEM certificate`);
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw new ClientError('BRONZE_CLIENT_CREDENTIALS', `${what} is not a valid certificate: ${(e as Error).message}`, { cause: e });
    }
  }
}
