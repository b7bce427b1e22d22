import { PKIError } from './errors.js';

/** PEM labels Talos (siderolabs/crypto) reads and writes. */
export const PEMLabel = {
  certificate: 'CERTIFICATE',
  certificateRequest: 'CERTIFICATE REQUEST',
  /** PKCS#8 of an Ed25519 key under Talos's own, non-standard label */
  ed25519Private: 'ED25519 PRIVATE KEY',
  ed25519Public: 'ED25519 PUBLIC KEY',
  /** SEC 1 */
  ecPrivate: 'EC PRIVATE KEY',
  ecPublic: 'EC PUBLIC KEY',
  /** PKCS#1 */
  rsaPrivate: 'RSA PRIVATE KEY',
  rsaPublic: 'RSA PUBLIC KEY',
  /** PKCS#8 */
  private: 'PRIVATE KEY',
  public: 'PUBLIC KEY',
} as const;

export interface PEMBlock {
  label: string;
  der: Buffer;
}

const blockRE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block of a text, in order; text around the blocks is ignored as Go's pem.Decode does. */
export function decodePEM(text: string): PEMBlock[] {
  const out: PEMBlock[] = [];
  for (const m of text.matchAll(blockRE)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new PKIError('BRONZE_PKI_PEM', `PEM block "${m[1]}" has a body that is not base64`);
    out.push({ label: m[1]!, der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** The first PEM block, optionally of one of the given labels; an error naming what was expected otherwise. */
export function decodeFirstPEM(text: string, what: string, labels?: readonly string[]): PEMBlock {
  const blocks = decodePEM(text);
  const block = labels ? blocks.find((b) => labels.includes(b.label)) : blocks[0];
  if (!block) {
    const want = labels ? ` (${labels.map((l) => `"${l}"`).join(' or ')})` : '';
    throw new PKIError('BRONZE_PKI_PEM', `${what}: no PEM block found${want}`);
  }
  return block;
}

/** Encodes DER as PEM with 64-character lines, as Go's encoding/pem does. */
export function encodePEM(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}

/** Replaces the label of every block of one kind, keeping the body (used for `ED25519 PRIVATE KEY` <-> `PRIVATE KEY`). */
export function relabelPEM(pem: string, from: string, to: string): string {
  return pem.split(`-----BEGIN ${from}-----`).join(`-----BEGIN ${to}-----`).split(`-----END ${from}-----`).join(`-----END ${to}-----`);
}

/** base64 (standard alphabet) of a PEM text: how Talos stores certificates and keys in YAML. */
export function toBase64PEM(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/** Decodes a base64 PEM field; plain PEM is passed through. An error names the field when it is neither. */
export function fromBase64PEM(value: string, what: string): string {
  const t = value.trim();
  if (t.startsWith('-----BEGIN')) return t.endsWith('\n') ? t : `${t}\n`;
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(t)) throw new PKIError('BRONZE_PKI_PEM', `${what}: not base64`);
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  if (!decoded.includes('-----BEGIN ')) throw new PKIError('BRONZE_PKI_PEM', `${what}: base64 does not hold PEM`);
  return decoded;
}
