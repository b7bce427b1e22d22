import { CertSANSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, netIP } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';

export const CertSANType = 'CertSANs.secrets.talos.dev';
export const CertSANAPIID = 'api';
export const CertSANMaintenanceID = 'maintenance';

/** The names a server certificate must carry: addresses, DNS names and the FQDN. */
export interface CertSANSpec {
  ips: string[];
  dnsNames: string[];
  fqdn: string;
}

export const certSANDefinition = define<CertSANSpec, PB>(
  { type: CertSANType, defaultNamespace: SecretsNamespace, sensitive: true },
  PB,
  (s) => ({ iPs: s.ips.map(netIP), dnsNames: s.dnsNames, fqdn: s.fqdn }),
);
