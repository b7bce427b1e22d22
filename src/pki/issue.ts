import { createPublicKey, randomBytes, sign, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import * as der from './der.js';
import { certificateSubject, certificateSubjectKeyId } from './der-reader.js';
import { PKIError } from './errors.js';
import { type KeyAlgorithm, type PrivateKey, generatePrivateKey, parsePrivateKey, privateKeyToPEM, publicKeyAlgorithm } from './keys.js';
import { decodeFirstPEM, decodePEM, encodePEM, fromBase64PEM, PEMLabel, toBase64PEM } from './pem.js';

/**
 * Issuing and loading certificates: DER encoded here (der.ts) and signed with node:crypto, read back with Node's
 * X509Certificate and der-reader.ts. Nothing here loads a general ASN.1 or X.509 library, so the processes that only
 * issue (trustd) stay small; creating CAs is cert.ts's.
 */

/** Validity of the admin client certificate of a talosconfig: one year. */
export const CLIENT_CERT_VALIDITY_MS = 8_760 * 3_600_000;

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping' | 'ocspSigning';

/** The object identifiers of the extended key usages (RFC 5280 4.2.1.12). */
export const extKeyUsageOIDs: Record<ExtKeyUsageName, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
};

/** Subject of a certificate as Talos sets it: Organization (roles for API clients) and an optional common name. */
export interface Subject {
  commonName?: string;
  organization?: string[];
}

/** The subject as an RFC 4514 string (Organization first, then CN), values escaped. */
export function subjectName(s: Subject | undefined): string {
  const parts: string[] = [];
  for (const o of s?.organization ?? []) parts.push(`O=${escapeRDN(o)}`);
  if (s?.commonName) parts.push(`CN=${escapeRDN(s.commonName)}`);
  return parts.join(', ');
}

function escapeRDN(v: string): string {
  return v.replace(/([,+"\\<>;=#])/g, '\\$1');
}

export interface CertificateOptions {
  subject?: Subject;
  /** default: now */
  notBefore?: Date;
  /** default: notBefore + one year */
  notAfter?: Date;
  keyUsage?: KeyUsageName[];
  extKeyUsage?: ExtKeyUsageName[];
  ipAddresses?: string[];
  dnsNames?: string[];
}

/** A certificate with its private key, in PEM as Talos stores them (the key under Talos's label). */
export interface CertificateAndKey {
  cert: NodeX509Certificate;
  key: PrivateKey;
  certPEM: string;
  keyPEM: string;
}

/** A CA: a certificate that may sign, and its key. */
export type CertificateAuthority = CertificateAndKey;

/** A random positive serial of up to 128 bits, as Go's rand.Int(2^128). */
export function newSerialNumber(): string {
  const b = randomBytes(16);
  // a DER INTEGER is signed: prefix a zero byte when the top bit is set so the serial stays positive
  return (b[0]! & 0x80 ? '00' : '') + b.toString('hex');
}

/** The validity period of the options, `defaultMs` long unless they end it; an error when it ends before it starts. */
export function validity(opts: { notBefore?: Date; notAfter?: Date }, defaultMs: number): { notBefore: Date; notAfter: Date } {
  const notBefore = opts.notBefore ?? new Date();
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + defaultMs);
  if (notAfter.getTime() <= notBefore.getTime()) throw new PKIError('BRONZE_PKI_OPTION', 'certificate notAfter must be later than notBefore');
  return { notBefore, notAfter };
}

/**
 * A small cache that forgets its oldest entry past `size` (issuers, CAs, certificates' facts: a node has a handful):
 * `get(key, make)` returns the value kept for key, or makes and keeps it.
 */
export function boundedCache<V>(size: number) {
  const m = new Map<string, V>();
  const get = (key: string, make: () => V): V => {
    let v = m.get(key);
    if (v === undefined) {
      v = make();
      if (m.size >= size) m.delete(m.keys().next().value!);
      m.set(key, v);
    }
    return v;
  };
  return Object.assign(get, { forget: (key: string) => m.delete(key) });
}

interface Issuer {
  /** the CA's subject, as its DER bytes: the issuer of what it signs */
  name: Buffer;
  subjectKeyId: Buffer | undefined;
}

/** What issuing needs of a CA, read once per CA (its subject and subject key id are fixed). */
const issuers = boundedCache<Issuer>(16);

function issuerOf(ca: CertificateAuthority): Issuer {
  return issuers(ca.cert.fingerprint256, () => {
    return { name: certificateSubject(ca.cert.raw), subjectKeyId: certificateSubjectKeyId(ca.cert.raw) };
  });
}

/** The object identifiers issuing writes, encoded once. */
const OID = {
  organization: der.oid('2.5.4.10'),
  commonName: der.oid('2.5.4.3'),
  keyUsage: der.oid('2.5.29.15'),
  extKeyUsage: der.oid('2.5.29.37'),
  authorityKeyId: der.oid('2.5.29.35'),
  subjectAltName: der.oid('2.5.29.17'),
};

const extKeyUsageDER = Object.fromEntries(Object.entries(extKeyUsageOIDs).map(([name, id]) => [name, der.oid(id)])) as Record<ExtKeyUsageName, Buffer>;

/** KeyUsage bits, numbered from the first (most significant) bit as in RFC 5280. */
export const keyUsageBits: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

/** The signature algorithm of a key, as an AlgorithmIdentifier, and the hash node:crypto signs with. */
export const signatureAlgorithms: Record<KeyAlgorithm, { der: Buffer; hash: string | null }> = {
  ed25519: { der: der.seq(der.oid('1.3.101.112')), hash: null },
  ecdsa: { der: der.seq(der.oid('1.2.840.10045.4.3.2')), hash: 'sha256' },
  rsa: { der: der.seq(der.oid('1.2.840.113549.1.1.11'), der.nullValue()), hash: 'sha256' },
};

/** An Extension: identifier, criticality (only when critical), value. */
export const extension = (id: Buffer, critical: boolean, value: Buffer) => der.seq(id, ...(critical ? [der.boolean(true)] : []), der.octetString(value));

/** A subject Name: one RDN per Organization, then the common name. */
export function nameDER(s: Subject | undefined): Buffer {
  const rdns: Buffer[] = [];
  for (const o of s?.organization ?? []) rdns.push(der.set(der.seq(OID.organization, der.directoryString(o))));
  if (s?.commonName) rdns.push(der.set(der.seq(OID.commonName, der.directoryString(s.commonName))));
  return der.seq(...rdns);
}

/**
 * Issues a certificate for a public key, signed by the CA (authority key id = the CA's subject key id): key usage
 * (critical), extended key usage, authority key id and subject alternative names, DNS names before addresses.
 */
export async function issueCertificate(ca: CertificateAuthority, publicKey: KeyObject, opts: CertificateOptions = {}): Promise<NodeX509Certificate & { pem: string }> {
  if (!ca.cert.ca) throw new PKIError('BRONZE_PKI_CERTIFICATE', 'the issuing certificate is not a CA (basic constraints CA:FALSE)');
  const { notBefore, notAfter } = validity(opts, CLIENT_CERT_VALIDITY_MS);
  const issuer = issuerOf(ca);
  const sig = signatureAlgorithms[ca.key.algorithm];
  const extensions: Buffer[] = [];
  const keyUsage = opts.keyUsage ?? ['digitalSignature'];
  if (keyUsage.length) extensions.push(extension(OID.keyUsage, true, der.namedBits(keyUsage.map((u) => keyUsageBits[u]))));
  const extKeyUsage = opts.extKeyUsage ?? ['serverAuth', 'clientAuth'];
  if (extKeyUsage.length) extensions.push(extension(OID.extKeyUsage, false, der.seq(...extKeyUsage.map((e) => extKeyUsageDER[e]))));
  if (issuer.subjectKeyId) extensions.push(extension(OID.authorityKeyId, false, der.seq(der.tlv(0x80, issuer.subjectKeyId))));
  const san = der.subjectAltNames(opts.dnsNames, opts.ipAddresses);
  if (san) extensions.push(extension(OID.subjectAltName, false, san));
  const tbs = der.seq(
    der.explicit(0, der.tlv(der.TAG.integer, Buffer.from([2]))),
    der.unsignedInteger(Buffer.from(newSerialNumber(), 'hex')),
    sig.der,
    issuer.name,
    der.seq(der.time(notBefore), der.time(notAfter)),
    nameDER(opts.subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length ? [der.explicit(3, der.seq(...extensions))] : []),
  );
  const signature = sign(sig.hash, tbs, ca.key.key);
  const certPEM = encodePEM(PEMLabel.certificate, der.seq(tbs, sig.der, der.bitString(signature)));
  return Object.assign(new NodeX509Certificate(certPEM), { pem: certPEM });
}

/**
 * A new key and a certificate for it, signed by the CA; the key has the CA's algorithm, as Talos's NewKeyPair.
 * Used for the admin client certificate of a talosconfig (roles as Organization, clientAuth only).
 */
export async function issueKeyPair(ca: CertificateAuthority, opts: CertificateOptions = {}): Promise<CertificateAndKey> {
  const key = await generatePrivateKey(ca.key.algorithm);
  const cert = await issueCertificate(ca, createPublicKey(key.key), opts);
  return { cert, certPEM: cert.pem, key, keyPEM: privateKeyToPEM(key) };
}

/** Parses the first certificate of a PEM text. */
export function parseCertificate(pem: string, what = 'certificate'): NodeX509Certificate {
  const block = decodeFirstPEM(pem, what, [PEMLabel.certificate]);
  try {
    return new NodeX509Certificate(block.der);
  } catch (e) {
    throw new PKIError('BRONZE_PKI_CERTIFICATE', `${what}: cannot parse: ${(e as Error).message}`, { cause: e });
  }
}

/** Every certificate of a PEM bundle. */
export function parseCertificates(pem: string, what = 'certificates'): NodeX509Certificate[] {
  const blocks = decodePEM(pem).filter((b) => b.label === PEMLabel.certificate);
  if (!blocks.length) throw new PKIError('BRONZE_PKI_PEM', `${what}: no CERTIFICATE block found`);
  return blocks.map((b, i) => {
    try {
      return new NodeX509Certificate(b.der);
    } catch (e) {
      throw new PKIError('BRONZE_PKI_CERTIFICATE', `${what} #${i + 1}: cannot parse: ${(e as Error).message}`, { cause: e });
    }
  });
}

/** PEM (or base64 PEM, as in configs) of a CA certificate and key: the CA, checked to be one and to match its key. */
export function loadCA(crt: string, key: string, what = 'CA'): CertificateAuthority {
  // the same CA is loaded by every controller that issues from it, on every change: parse and check it once
  return loadedCAs(`${what}\0${crt}\0${key}`, () => loadCAOnce(crt, key, what));
}

const loadedCAs = boundedCache<CertificateAuthority>(16);

function loadCAOnce(crt: string, key: string, what: string): CertificateAuthority {
  const certPEM = fromBase64PEM(crt, `${what} certificate`);
  const keyPEM = fromBase64PEM(key, `${what} key`);
  const cert = parseCertificate(certPEM, `${what} certificate`);
  const k = parsePrivateKey(keyPEM, `${what} key`);
  if (!cert.checkPrivateKey(k.key)) throw new PKIError('BRONZE_PKI_KEY', `${what}: the key does not match the certificate`);
  if (!cert.ca) throw new PKIError('BRONZE_PKI_CERTIFICATE', `${what}: the certificate is not a CA (basic constraints CA:FALSE)`);
  return { cert, certPEM, key: k, keyPEM };
}

/** Whether `cert` was issued and signed by `issuer`, and is valid at `at` (default now). */
export function verifyIssuedBy(cert: NodeX509Certificate, issuer: NodeX509Certificate, at: Date = new Date()): boolean {
  if (!cert.checkIssued(issuer)) return false;
  if (!cert.verify(issuer.publicKey)) return false;
  const t = at.getTime();
  return new Date(cert.validFrom).getTime() <= t && t <= new Date(cert.validTo).getTime();
}

/** The algorithm of a certificate's public key. */
export function certificateKeyAlgorithm(cert: NodeX509Certificate): KeyAlgorithm {
  return publicKeyAlgorithm(cert.publicKey);
}

/** base64 of the PEMs, as a `{crt, key}` pair in a config or secrets bundle. */
export function toBase64Pair(c: { certPEM: string; keyPEM: string }): { crt: string; key: string } {
  return { crt: toBase64PEM(c.certPEM), key: toBase64PEM(c.keyPEM) };
}
