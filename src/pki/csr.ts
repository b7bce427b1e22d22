import type { KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { PKIError } from './errors.js';
import { type CertificateAuthority, type CertificateOptions, issueCertificate, type KeyUsageName, nameDER, type Subject } from './issue.js';
import type { PrivateKey } from './keys.js';
import { decodeCSR, encodeCSR, subjectAltNameExtension } from './pkcs10.js';
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
  /** key usages the CSR asks for, empty when it asks for none */
  keyUsage: KeyUsageName[];
}

/** Creates a CSR signed by the key, carrying the subject (Organizations, then the common name) and SANs. */
export async function createCSR(key: PrivateKey, opts: CSROptions = {}): Promise<string> {
  const san = subjectAltNameExtension(opts.dnsNames, opts.ipAddresses);
  return encodePEM(PEMLabel.certificateRequest, encodeCSR(key, nameDER(opts.subject), san ? [san] : []));
}

/** Parses a CSR (PEM) and checks its signature. */
export async function parseCSR(pem: string, what = 'certificate request'): Promise<CertificateRequest> {
  const block = decodeFirstPEM(pem, what, [PEMLabel.certificateRequest, 'NEW CERTIFICATE REQUEST']);
  try {
    return readCSR(block.der);
  } catch (e) {
    if (!(e instanceof PKIError)) throw e;
    throw new PKIError('BRONZE_PKI_CSR', `${what}: cannot parse: ${e.message}`, { cause: e });
  }
}

/** Reads a CSR (DER) and checks its signature; a PKIError (BRONZE_PKI_CSR) says what is malformed. */
export function readCSR(der: Uint8Array): CertificateRequest {
  const csr = decodeCSR(der);
  return {
    pem: encodePEM(PEMLabel.certificateRequest, der),
    subject: { commonName: csr.commonName, organization: csr.organization },
    ipAddresses: csr.ipAddresses,
    dnsNames: csr.dnsNames,
    publicKey: csr.publicKey,
    signatureValid: csr.signatureValid,
    extKeyUsage: csr.extKeyUsage,
    keyUsage: csr.keyUsage,
  };
}

/**
 * Signs a CSR (PEM, or one parseCSR read) with a CA as Talos's NewCertificateFromCSR: the CSR's signature must
 * verify; the certificate takes the CSR's subject and SANs unless the options override them, and the options' usages
 * and validity.
 */
export async function signCSR(ca: CertificateAuthority, request: string | CertificateRequest, opts: CertificateOptions = {}): Promise<NodeX509Certificate & { pem: string }> {
  const csr = typeof request === 'string' ? await parseCSR(request) : request;
  if (!csr.signatureValid) throw new PKIError('BRONZE_PKI_CSR', 'certificate request signature does not verify');
  return issueCertificate(ca, csr.publicKey, {
    ...opts,
    subject: opts.subject ?? csr.subject,
    ipAddresses: opts.ipAddresses ?? csr.ipAddresses,
    dnsNames: opts.dnsNames ?? csr.dnsNames,
  });
}
