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

/** How a method streams, in gRPC's terms. */
export type MethodKind = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

export interface MethodInfo {
  /** `/machine.MachineService/Version` */
  path: string;
  /** `machine.MachineService` */
  service: string;
  /** `Version` */
  name: string;
  kind: MethodKind;
  /**
   * Whether responses follow the `repeated X messages = 1` envelope whose elements carry `common.Metadata metadata = 1`
   * (and so can be fanned out by apid), as opposed to the newer services that have no envelope.
   */
  envelope: boolean;
}

export interface ServiceInfo {
  /** fully qualified name: `machine.MachineService` */
  name: string;
  definition: ServiceDefinition;
  /** served by apid on :50000 (securityapi.SecurityService is trustd's, on :50001) */
  apid: boolean;
  /** responses carry the metadata envelope */
  envelope: boolean;
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

function kindOf(requestStream: boolean, responseStream: boolean): MethodKind {
  if (requestStream && responseStream) return 'bidi_stream';
  if (requestStream) return 'client_stream';
  if (responseStream) return 'server_stream';
  return 'unary';
}

let methodCache: Map<string, MethodInfo> | undefined;

/** Every method of every service, keyed by its full path. */
export function methods(): ReadonlyMap<string, MethodInfo> {
  if (methodCache) return methodCache;
  const m = new Map<string, MethodInfo>();
  for (const s of services) {
    for (const def of Object.values(s.definition)) {
      const path = def.path;
      const name = path.slice(path.lastIndexOf('/') + 1);
      m.set(path, { path, service: s.name, name, kind: kindOf(def.requestStream, def.responseStream), envelope: s.envelope });
    }
  }
  methodCache = m;
  return m;
}

/** Splits `/pkg.Service/Method` into its service and method names, or undefined when it is not of that form. */
export function parseMethodPath(path: string): { service: string; method: string } | undefined {
  const m = /^\/([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)$/.exec(path);
  return m ? { service: m[1]!, method: m[2]! } : undefined;
}
