import { OSRootSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, netIP, pemCert, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const OSRootType = 'OSRootSecrets.secrets.talos.dev';
export const OSRootID = 'os';

/** The OS CA (from `machine.ca`), the accepted CAs, the machine token and the configured cert SANs. */
export interface OSRootSpec {
  issuingCA?: PEMPair;
  acceptedCAs: { crt: string }[];
  certSANIPs: string[];
  certSANDNSNames: string[];
  token: string;
}

export const osRootDefinition = define<OSRootSpec, PB>(
  { type: OSRootType, defaultNamespace: SecretsNamespace, sensitive: true },
  PB,
  (s) => ({
    issuingCa: pemPair(s.issuingCA),
    certSaniPs: s.certSANIPs.map(netIP),
    certSandnsNames: s.certSANDNSNames,
    token: s.token,
    acceptedCAs: s.acceptedCAs.map(pemCert),
  }),
);
