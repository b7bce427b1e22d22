import type { ServiceDefinition } from '@grpc/grpc-js';
import { ClusterServiceService } from './gen/cluster/cluster.js';
import { StateService } from './gen/cosi/state.js';
import { InspectServiceService } from './gen/inspect/inspect.js';
import { DebugServiceService } from './gen/machine/debug.js';
import { ImageServiceService } from './gen/machine/image.js';
import { LifecycleServiceService } from './gen/machine/lifecycle.js';
import { MachineServiceService } from './gen/machine/machine.js';
import { SecurityServiceService } from './gen/security/security.js';
import { StorageServiceService } from './gen/storage/storage.js';
import { TimeServiceService } from './gen/time/time.js';
import { methodIndex, type ServiceMethods } from './method-table.js';

export type { MethodInfo, MethodKind } from './method-table.js';

export interface ServiceInfo extends ServiceMethods {
  definition: ServiceDefinition;
}

const asDefinition = (d: object) => d as unknown as ServiceDefinition;

/** Every gRPC service Bronze defines, as registered on the wire. */
export const services: readonly ServiceInfo[] = [
  { name: 'machine.MachineService', definition: asDefinition(MachineServiceService), apid: true, envelope: true },
  { name: 'machine.ImageService', definition: asDefinition(ImageServiceService), apid: true, envelope: false },
  { name: 'machine.LifecycleService', definition: asDefinition(LifecycleServiceService), apid: true, envelope: false },
  { name: 'machine.DebugService', definition: asDefinition(DebugServiceService), apid: true, envelope: false },
  { name: 'cluster.ClusterService', definition: asDefinition(ClusterServiceService), apid: true, envelope: true },
  { name: 'inspect.InspectService', definition: asDefinition(InspectServiceService), apid: true, envelope: true },
  { name: 'storage.StorageService', definition: asDefinition(StorageServiceService), apid: true, envelope: true },
  { name: 'time.TimeService', definition: asDefinition(TimeServiceService), apid: true, envelope: true },
  { name: 'cosi.resource.State', definition: asDefinition(StateService), apid: true, envelope: false },
  { name: 'securityapi.SecurityService', definition: asDefinition(SecurityServiceService), apid: false, envelope: false },
];

/** Every method of every service, keyed by its full path, as the generated definitions register them. */
export const methods = methodIndex(services);

/** Splits `/pkg.Service/Method` into its service and method names, or undefined when it is not of that form. */
export function parseMethodPath(path: string): { service: string; method: string } | undefined {
  const m = /^\/([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)$/.exec(path);
  return m ? { service: m[1]!, method: m[2]! } : undefined;
}
