import { MaintenanceRootSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const MaintenanceRootType = 'MaintenanceRootSecrets.secrets.talos.dev';
export const MaintenanceRootID = 'maintenance';

/** The throwaway CA the maintenance API's certificate is signed by; made once per boot, never stored. */
export interface MaintenanceRootSpec {
  ca?: PEMPair;
}

export const maintenanceRootDefinition = define<MaintenanceRootSpec, PB>(
  { type: MaintenanceRootType, defaultNamespace: SecretsNamespace, sensitive: true },
  PB,
  (s) => ({ ca: pemPair(s.ca) }),
);
