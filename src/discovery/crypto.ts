import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Affiliate data as the discovery service stores it: AES-GCM under the cluster's secret (`cluster.secret`, 32 bytes:
 * AES-256), laid out as nonce (12 bytes), ciphertext, tag (16 bytes). The service sees only these bytes.
 */
const NONCE = 12;
const TAG = 16;

function algorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 24) return 'aes-192-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`the cluster secret is ${key.length} bytes: an AES key is 16, 24 or 32 bytes`);
}

export function sealAffiliate(key: Uint8Array, plain: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv(algorithm(key), key, nonce);
  return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
}

/** The plain bytes, or an error when the data is short or was not sealed with this key. */
export function openAffiliate(key: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < NONCE + TAG) throw new Error(`affiliate data is ${sealed.length} bytes, shorter than a nonce and a tag`);
  const d = createDecipheriv(algorithm(key), key, sealed.subarray(0, NONCE));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
}
