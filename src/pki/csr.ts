import 'reflect-metadata';
import { createPublicKey, type KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type CertificateAuthority, type CertificateOptions, issueCertificate, type Subject, subjectName, type X509SigningAlgorithm } from './cert.js';
import { PKIError } from './errors.js';
import { type PrivateKey, signingAlgorithm, toCryptoKeyPair } from './keys.js';
import { decodeFirstPEM, encodePEM, PEMLabel } from './pem.js';

export interface CSROptions {
  subject?: Subject;
  ipAddresses?: string[];
  dnsNames?: string[];
}

/** A parsed certificate signing request. */
export interface CertificateRequest {
  pem: string;
  subject: Subject;
  ipAddresses: string[];
  dnsNames: string[];
  publicKey: KeyObject;
  /** whether the CSR's signature verifies with its own key */
  signatureValid: boolean;
  /** extended key usages the CSR asks for (OIDs), empty when it asks for none */
  extKeyUsage: string[];
}

/** Creates a CSR signed by the key, carrying the subject and SANs. */
export async function createCSR(key: PrivateKey, opts: CSROptions = {}): Promise<string> {
  const names: x509.JsonGeneralName[] = [...(opts.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })), ...(opts.ipAddresses ?? []).map((v) => ({ type: 'ip' as const, value: v }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(opts.subject),
    keys: await toCryptoKeyPair(key),
    signingAlgorithm: signingAlgorithm(key.algorithm) as X509SigningAlgorithm,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : [],
  });
  return encodePEM(PEMLabel.certificateRequest, new Uint8Array(csr.rawData));
}

/** Parses a CSR (PEM) and checks its signature. */
export async function parseCSR(pem: string, what = 'certificate request'): Promise<CertificateRequest> {
  const block = decodeFirstPEM(pem, what, [PEMLabel.certificateRequest, 'NEW CERTIFICATE REQUEST']);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(block.der);
  } catch (e) {
    throw new PKIError('BRONZE_PKI_CSR', `${what}: cannot parse: ${(e as Error).message}`, { cause: e });
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (e) {
    throw new PKIError('BRONZE_PKI_CSR', `${what}: unsupported public key: ${(e as Error).message}`, { cause: e });
  }
  let signatureValid = false;
  try {
    signatureValid = await csr.verify();
  } catch {
    signatureValid = false;
  }
  const san = csr.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null;
  const eku = csr.getExtension('2.5.29.37') as x509.ExtendedKeyUsageExtension | null;
  return {
    pem: encodePEM(PEMLabel.certificateRequest, block.der),
    subject: { commonName: csr.subjectName.getField('CN')[0], organization: csr.subjectName.getField('O') },
    ipAddresses: san?.names.items.filter((n) => n.type === 'ip').map((n) => n.value) ?? [],
    dnsNames: san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? [],
    publicKey,
    signatureValid,
    extKeyUsage: eku?.usages.map(String) ?? [],
  };
}

/**
 * Signs a CSR with a CA as Talos's NewCertificateFromCSR: the CSR's signature must verify; the certificate takes
 * the CSR's subject and SANs unless the options override them, and the options' usages and validity.
 */
export async function signCSR(ca: CertificateAuthority, csrPEM: string, opts: CertificateOptions = {}): Promise<NodeX509Certificate & { pem: string }> {
  const csr = await parseCSR(csrPEM);
  if (!csr.signatureValid) throw new PKIError('BRONZE_PKI_CSR', 'certificate request signature does not verify');
  return issueCertificate(ca, csr.publicKey, {
    ...opts,
    subject: opts.subject ?? csr.subject,
    ipAddresses: opts.ipAddresses ?? csr.ipAddresses,
    dnsNames: opts.dnsNames ?? csr.dnsNames,
  });
}
