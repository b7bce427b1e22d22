import { MaintenanceServiceConfigSpec as PB } from '../../api/gen/resource/definitions/runtime/runtime.js';
import { define, netIP } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const MaintenanceServiceConfigType = 'MaintenanceServiceConfigs.runtime.talos.dev';
export const MaintenanceServiceRequestType = 'MaintenanceServiceRequests.runtime.talos.dev';
export const MaintenanceID = 'maintenance';

/** Where the maintenance API listens and the addresses it can be reached at (its certificate's SANs). */
export interface MaintenanceServiceConfigSpec {
  listenAddress: string;
  reachableAddresses: string[];
}

export const maintenanceServiceConfigDefinition = define<MaintenanceServiceConfigSpec, PB>({ type: MaintenanceServiceConfigType, defaultNamespace: RuntimeNamespace }, PB, (s) => ({
  listenAddress: s.listenAddress,
  reachableAddresses: s.reachableAddresses.map(netIP),
}));

/** Present while the node waits in maintenance for a config: the maintenance API serves while it exists. */
export const maintenanceServiceRequestDefinition = { type: MaintenanceServiceRequestType, defaultNamespace: RuntimeNamespace };
