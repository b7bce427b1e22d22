import 'reflect-metadata';
import { createPublicKey, randomBytes, sign, X509Certificate as NodeX509Certificate, type KeyObject, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import * as der from './der.js';
import { certificateSubject } from './der.js';
import { PKIError } from './errors.js';
import { type KeyAlgorithm, type PrivateKey, generatePrivateKey, parsePrivateKey, privateKeyToPEM, publicKeyAlgorithm, signingAlgorithm, toCryptoKeyPair } from './keys.js';
import { decodeFirstPEM, decodePEM, encodePEM, fromBase64PEM, PEMLabel, toBase64PEM } from './pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** the signing algorithm type @peculiar/x509 takes */
export type X509SigningAlgorithm = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['signingAlgorithm']>;

/** Validity of the CAs Talos generates: ten years (87600 h). */
export const CA_VALIDITY_MS = 87_600 * 3_600_000;
/** Validity of the admin client certificate of a talosconfig: one year. */
export const CLIENT_CERT_VALIDITY_MS = 8_760 * 3_600_000;

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign';
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping' | 'ocspSigning';

const extKeyUsageOIDs: Record<ExtKeyUsageName, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  codeSigning: x509.ExtendedKeyUsage.codeSigning,
  emailProtection: x509.ExtendedKeyUsage.emailProtection,
  timeStamping: x509.ExtendedKeyUsage.timeStamping,
  ocspSigning: x509.ExtendedKeyUsage.ocspSigning,
};

/** Subject of a certificate as Talos sets it: Organization (roles for API clients) and an optional common name. */
export interface Subject {
  commonName?: string;
  organization?: string[];
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

function sanExtension(ips: string[] = [], dns: string[] = []): x509.Extension | undefined {
  const names: x509.JsonGeneralName[] = [];
  for (const d of dns) names.push({ type: 'dns', value: d });
  for (const ip of ips) {
    if (!isIP(ip)) throw new PKIError('BRONZE_PKI_OPTION', `"${ip}" is not an IP address`);
    names.push({ type: 'ip', value: ip });
  }
  return names.length ? new x509.SubjectAlternativeNameExtension(names, false) : undefined;
}


function fromPeculiar(c: x509.X509Certificate): { cert: NodeX509Certificate; certPEM: string } {
  const certPEM = encodePEM(PEMLabel.certificate, new Uint8Array(c.rawData));
  return { cert: new NodeX509Certificate(certPEM), certPEM };
}

function validity(opts: { notBefore?: Date; notAfter?: Date }, defaultMs: number): { notBefore: Date; notAfter: Date } {
  const notBefore = opts.notBefore ?? new Date();
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + defaultMs);
  if (notAfter.getTime() <= notBefore.getTime()) throw new PKIError('BRONZE_PKI_OPTION', 'certificate notAfter must be later than notBefore');
  return { notBefore, notAfter };
}

export interface CAOptions {
  organization?: string[];
  commonName?: string;
  notBefore?: Date;
  /** default: notBefore + 87600 h */
  notAfter?: Date;
  ipAddresses?: string[];
  dnsNames?: string[];
  rsaBits?: number;
  /** an existing key to use instead of a new one */
  key?: PrivateKey;
}

/**
 * A self-signed CA as Talos makes them: random 128-bit serial, random subject key id, key usage CertSign|DigitalSignature
 * (critical), extended key usage serverAuth+clientAuth, basic constraints CA:TRUE (critical).
 */
export async function createCA(algorithm: KeyAlgorithm, opts: CAOptions = {}): Promise<CertificateAuthority> {
  const key = opts.key ?? (await generatePrivateKey(algorithm, { rsaBits: opts.rsaBits }));
  if (key.algorithm !== algorithm) throw new PKIError('BRONZE_PKI_OPTION', `the given key is ${key.algorithm}, not ${algorithm}`);
  const keys = await toCryptoKeyPair(key);
  const { notBefore, notAfter } = validity(opts, CA_VALIDITY_MS);
  const name = subjectName({ organization: opts.organization, commonName: opts.commonName });
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.SubjectKeyIdentifierExtension(randomBytes(20).toString('hex')),
  ];
  const san = sanExtension(opts.ipAddresses, opts.dnsNames);
  if (san) extensions.push(san);
  const c = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialNumber(),
    subject: name,
    issuer: name,
    notBefore,
    notAfter,
    signingAlgorithm: signingAlgorithm(algorithm) as X509SigningAlgorithm,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions,
  });
  return { ...fromPeculiar(c), key, keyPEM: privateKeyToPEM(key) };
}

/** A small map that forgets its oldest entry past `size` (issuers and CAs: a node has a handful). */
function bounded<V>(size: number) {
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
const issuers = bounded<Issuer>(16);

function issuerOf(ca: CertificateAuthority): Issuer {
  return issuers(ca.cert.fingerprint256, () => {
    const keyId = new x509.X509Certificate(ca.cert.raw).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    return { name: certificateSubject(ca.cert.raw), subjectKeyId: keyId ? Buffer.from(keyId, 'hex') : undefined };
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
const keyUsageBits: Record<KeyUsageName, number> = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 };

/** The signature algorithm of a CA's key, as an AlgorithmIdentifier, and the hash node:crypto signs with. */
const signatureAlgorithms: Record<KeyAlgorithm, { der: Buffer; hash: string | null }> = {
  ed25519: { der: der.seq(der.oid('1.3.101.112')), hash: null },
  ecdsa: { der: der.seq(der.oid('1.2.840.10045.4.3.2')), hash: 'sha256' },
  rsa: { der: der.seq(der.oid('1.2.840.113549.1.1.11'), der.nullValue()), hash: 'sha256' },
};

const extension = (id: Buffer, critical: boolean, value: Buffer) => der.seq(id, ...(critical ? [der.boolean(true)] : []), der.octetString(value));

function nameDER(s: Subject | undefined): Buffer {
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

const loadedCAs = bounded<CertificateAuthority>(16);

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

/** The Organization values of a certificate's subject (Talos roles for API client certificates). */
export function subjectOrganizations(cert: NodeX509Certificate): string[] {
  const pc = new x509.X509Certificate(cert.raw);
  return pc.subjectName.getField('O');
}

/** The algorithm of a certificate's public key. */
export function certificateKeyAlgorithm(cert: NodeX509Certificate): KeyAlgorithm {
  return publicKeyAlgorithm(cert.publicKey);
}

/** base64 of the PEMs, as a `{crt, key}` pair in a config or secrets bundle. */
export function toBase64Pair(c: { certPEM: string; keyPEM: string }): { crt: string; key: string } {
  return { crt: toBase64PEM(c.certPEM), key: toBase64PEM(c.keyPEM) };
}
