import { APICertsSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemCert, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';

export const ApiCertificatesType = 'ApiCertificates.secrets.talos.dev';
export const ApiCertificatesID = 'api';

/** A certificate (and key) as Talos's YAML holds them: base64 of the PEM text. */
export interface PEMPair {
  crt: string;
  key: string;
}

/** apid's TLS material: its server certificate, its client certificate towards peers, and the CAs it accepts. */
export interface ApiCertificatesSpec {
  client?: PEMPair;
  server?: PEMPair;
  acceptedCAs: { crt: string }[];
  skipVerifyingClientCert?: boolean;
}

export const apiCertificatesDefinition = define<ApiCertificatesSpec, PB>(
  { type: ApiCertificatesType, defaultNamespace: SecretsNamespace, sensitive: true },
  PB,
  (s) => ({ client: pemPair(s.client), server: pemPair(s.server), acceptedCAs: s.acceptedCAs.map(pemCert), skipVerifyingClientCert: s.skipVerifyingClientCert ?? false }),
);
