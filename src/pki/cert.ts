import 'reflect-metadata';
import { randomBytes, X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { PKIError } from './errors.js';
import { type CertificateAuthority, newSerialNumber, subjectName, validity } from './issue.js';
import { type KeyAlgorithm, type PrivateKey, generatePrivateKey, privateKeyToPEM, signingAlgorithm, toCryptoKeyPair } from './keys.js';
import { encodePEM, PEMLabel } from './pem.js';

export * from './issue.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** the signing algorithm type @peculiar/x509 takes */
export type X509SigningAlgorithm = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['signingAlgorithm']>;

/** Validity of the CAs Talos generates: ten years (87600 h). */
export const CA_VALIDITY_MS = 87_600 * 3_600_000;

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

/** The Organization values of a certificate's subject (Talos roles for API client certificates). */
export function subjectOrganizations(cert: NodeX509Certificate): string[] {
  const pc = new x509.X509Certificate(cert.raw);
  return pc.subjectName.getField('O');
}

