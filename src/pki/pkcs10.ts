import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import * as der from './der.js';
import { DERReader, type Element } from './der-reader.js';
import { PKIError } from './errors.js';
import { extension, type KeyUsageName, keyUsageBits, signatureAlgorithms } from './issue.js';
import type { PrivateKey } from './keys.js';

/**
 * PKCS#10 certificate requests (RFC 2986) in DER, both ways: the encoding of the few requests Bronze makes, and a
 * decoder that reads what a CA looks at (subject, public key, requested extensions) and checks the self-signature
 * with node:crypto. It reads certificate requests from other machines (trustd signs them), so every malformed input
 * ends in a PKIError (BRONZE_PKI_CSR) that says what was wrong where.
 */

/** A certificate request's fields, decoded. */
export interface DecodedCSR {
  /** the first common name of the subject */
  commonName?: string;
  /** every Organization of the subject, in order */
  organization: string[];
  /** SubjectPublicKeyInfo (DER) */
  publicKeyInfo: Buffer;
  publicKey: KeyObject;
  /** requested subject alternative names */
  dnsNames: string[];
  ipAddresses: string[];
  /** requested extended key usages (object identifiers), empty when none are asked for */
  extKeyUsage: string[];
  /** requested key usages, empty when none are asked for */
  keyUsage: KeyUsageName[];
  /** the object identifier of the signature algorithm */
  signatureAlgorithm: string;
  /** whether the signature verifies with the request's own key (false for algorithms this does not know) */
  signatureValid: boolean;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
} as const;

/** The signature algorithms a request may be signed with: the key type they need and the hash (none for Ed25519). */
const verifiers: Record<string, { keyType: string; hash: string | null; nullParams: boolean }> = {
  '1.3.101.112': { keyType: 'ed25519', hash: null, nullParams: false },
  '1.2.840.10045.4.3.2': { keyType: 'ec', hash: 'sha256', nullParams: false },
  '1.2.840.10045.4.3.3': { keyType: 'ec', hash: 'sha384', nullParams: false },
  '1.2.840.10045.4.3.4': { keyType: 'ec', hash: 'sha512', nullParams: false },
  '1.2.840.113549.1.1.11': { keyType: 'rsa', hash: 'sha256', nullParams: true },
  '1.2.840.113549.1.1.12': { keyType: 'rsa', hash: 'sha384', nullParams: true },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', hash: 'sha512', nullParams: true },
};

const keyUsageNames = Object.entries(keyUsageBits).sort((a, b) => a[1] - b[1]).map(([name]) => name as KeyUsageName);

/** The DER of a certificate request for the key's public half, signed by it. */
export function encodeCSR(key: PrivateKey, subject: Buffer, extensions: Buffer[]): Buffer {
  const attributes = extensions.length ? [der.seq(der.oid(OID.extensionRequest), der.set(der.seq(...extensions)))] : [];
  const info = der.seq(
    der.tlv(der.TAG.integer, Buffer.from([0])),
    subject,
    createPublicKey(key.key).export({ type: 'spki', format: 'der' }),
    der.tlv(0xa0, ...attributes),
  );
  const alg = signatureAlgorithms[key.algorithm];
  return der.seq(info, alg.der, der.bitString(sign(alg.hash, info, key.key)));
}

/** The subject alternative name extension of the names, if any. */
export function subjectAltNameExtension(dnsNames: string[] = [], ipAddresses: string[] = []): Buffer | undefined {
  const san = der.subjectAltNames(dnsNames, ipAddresses);
  return san && extension(der.oid(OID.subjectAltName), false, san);
}

/** Decodes a certificate request (DER) and checks its signature. */
export function decodeCSR(input: Uint8Array): DecodedCSR {
  const r = new DERReader(input, 'BRONZE_PKI_CSR');
  const [infoEl, algEl, sigEl, ...extra] = r.children(r.root(der.TAG.sequence, 'certificate request'));
  if (extra.length) r.fail(`certificate request: ${extra.length} fields after the signature`);
  const [versionEl, subjectEl, spkiEl, attrsEl, ...more] = r.items(infoEl, der.TAG.sequence, 'certificationRequestInfo');
  const version = r.smallInteger(versionEl, 'version');
  if (version !== 0) r.fail(`unsupported certificate request version ${version + 1}`);
  if (more.length) r.fail(`certificationRequestInfo: ${more.length} fields after the attributes`);

  const subject = subjectOf(r, subjectEl);
  const publicKeyInfo = Buffer.from(r.raw(r.expect(spkiEl, der.TAG.sequence, 'subjectPublicKeyInfo')));
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: publicKeyInfo, format: 'der', type: 'spki' });
  } catch (e) {
    throw new PKIError('BRONZE_PKI_CSR', `unsupported public key: ${(e as Error).message}`, { cause: e });
  }
  const requested = extensionsOf(r, attrsEl);

  const [algOID, algParams, ...algExtra] = r.items(algEl, der.TAG.sequence, 'signatureAlgorithm');
  const signatureAlgorithm = r.oid(algOID, 'signatureAlgorithm');
  if (algExtra.length) r.fail('signatureAlgorithm: more than an identifier and parameters');
  const signature = r.bitString(sigEl, 'signature');
  if (signature.unusedBits !== 0) r.fail('signature: a BIT STRING with unused bits');

  const v = verifiers[signatureAlgorithm];
  let signatureValid = false;
  const paramsOK = algParams === undefined || (v?.nullParams === true && algParams.tag === der.TAG.null && algParams.end === algParams.contents);
  if (v && paramsOK && publicKey.asymmetricKeyType === v.keyType) {
    try {
      signatureValid = verify(v.hash, r.raw(infoEl!), publicKey, signature.bytes);
    } catch {
      signatureValid = false;
    }
  }
  return { ...subject, publicKeyInfo, publicKey, ...requested, signatureAlgorithm, signatureValid };
}

function subjectOf(r: DERReader, name: Element | undefined): { commonName?: string; organization: string[] } {
  let commonName: string | undefined;
  const organization: string[] = [];
  for (const [type, value] of r.nameAttributes(name, 'subject')) {
    if (type === OID.organization) organization.push(r.text(value, 'subject Organization'));
    else if (type === OID.commonName && commonName === undefined) commonName = r.text(value, 'subject common name');
  }
  return commonName === undefined ? { organization } : { commonName, organization };
}

/** The extensions asked for in the attributes (`[0] IMPLICIT SET OF Attribute`, which some encoders leave out). */
function extensionsOf(r: DERReader, attrs: Element | undefined): Pick<DecodedCSR, 'dnsNames' | 'ipAddresses' | 'extKeyUsage' | 'keyUsage'> {
  const out = { dnsNames: [] as string[], ipAddresses: [] as string[], extKeyUsage: [] as string[], keyUsage: [] as KeyUsageName[] };
  if (!attrs) return out;
  let extensions: Element | undefined;
  for (const attr of r.items(attrs, 0xa0, 'attributes')) {
    const [type, values, ...rest] = r.items(attr, der.TAG.sequence, 'attribute');
    if (r.oid(type, 'attribute type') !== OID.extensionRequest) continue;
    if (extensions) r.fail('the extension request appears twice');
    const list = r.items(values, der.TAG.set, 'extension request values');
    if (list.length !== 1 || rest.length) r.fail('the extension request does not hold exactly one list of extensions');
    extensions = list[0];
  }
  if (!extensions) return out;
  const byId = r.extensions(extensions, 'requested extensions');
  const san = byId.get(OID.subjectAltName);
  if (san) {
    for (const name of r.items(r.extensionValue(san, 'subjectAltName'), der.TAG.sequence, 'subjectAltName')) {
      if (name.tag === 0x82) out.dnsNames.push(r.text({ ...name, tag: der.TAG.ia5String }, 'subjectAltName dNSName'));
      else if (name.tag === 0x87) {
        const b = r.contents(name);
        if (b.length !== 4 && b.length !== 16) r.fail(`subjectAltName: an iPAddress of ${b.length} bytes`);
        out.ipAddresses.push(der.ipText(b));
      }
    }
  }
  const eku = byId.get(OID.extKeyUsage);
  if (eku) {
    for (const id of r.items(r.extensionValue(eku, 'extKeyUsage'), der.TAG.sequence, 'extKeyUsage')) out.extKeyUsage.push(r.oid(id, 'extKeyUsage'));
  }
  const ku = byId.get(OID.keyUsage);
  if (ku) {
    const { bytes } = r.bitString(r.extensionValue(ku, 'keyUsage'), 'keyUsage');
    out.keyUsage = keyUsageNames.filter((_, bit) => bit >> 3 < bytes.length && bytes[bit >> 3]! & (0x80 >> (bit & 7)));
  }
  return out;
}
