import { TrustdCertsSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemCert, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const TrustdCertificatesType = 'TrustdCertificates.secrets.talos.dev';
export const TrustdCertificatesID = 'trustd';

export interface TrustdCertificatesSpec {
  server?: PEMPair;
  acceptedCAs: { crt: string }[];
}

export const trustdCertificatesDefinition = define<TrustdCertificatesSpec, PB>(
  { type: TrustdCertificatesType, defaultNamespace: SecretsNamespace, sensitive: true },
  PB,
  (s) => ({ server: pemPair(s.server), acceptedCAs: s.acceptedCAs.map(pemCert) }),
);
