/**
 * The methods of the API as apid routes them: paths, streaming kinds and envelopes, written out rather than read from
 * the generated service definitions, which would load every message codec with them (apid forwards the bytes and
 * needs none). src/api/methods.test.ts checks this table against the generated definitions.
 */

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

/** What a registered method says of itself: its path and which sides stream (a grpc-js method definition has these). */
export interface MethodShape {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** A service with its methods and how apid treats it. */
export interface ServiceMethods {
  /** fully qualified name: `machine.MachineService` */
  name: string;
  definition: Readonly<Record<string, MethodShape>>;
  /** served by apid on :50000 (securityapi.SecurityService is trustd's, on :50001) */
  apid: boolean;
  /** responses carry the metadata envelope */
  envelope: boolean;
}

function kindOf(requestStream: boolean, responseStream: boolean): MethodKind {
  if (requestStream && responseStream) return 'bidi_stream';
  if (requestStream) return 'client_stream';
  if (responseStream) return 'server_stream';
  return 'unary';
}

/** The methods of the services keyed by their full paths, built on the first call. */
export function methodIndex(services: readonly ServiceMethods[]): () => ReadonlyMap<string, MethodInfo> {
  let index: Map<string, MethodInfo> | undefined;
  return () => {
    if (index) return index;
    index = new Map();
    for (const s of services) {
      for (const def of Object.values(s.definition)) {
        const path = def.path;
        const name = path.slice(path.lastIndexOf('/') + 1);
        index.set(path, { path, service: s.name, name, kind: kindOf(def.requestStream, def.responseStream), envelope: s.envelope });
      }
    }
    return index;
  };
}

// U unary, S server stream, C client stream, B bidirectional
const U = [false, false] as const;
const S = [false, true] as const;
const C = [true, false] as const;
const B = [true, true] as const;
type Streams = typeof U | typeof S | typeof C | typeof B;

/** Every RPC of the Talos v1.13 API, the COSI State service and trustd's. */
const table: { name: string; apid: boolean; envelope: boolean; methods: Record<string, Streams> }[] = [
  {
    name: 'machine.MachineService',
    apid: true,
    envelope: true,
    methods: {
      ApplyConfiguration: U, Bootstrap: U, Containers: U, Copy: S, CPUFreqStats: U, CPUInfo: U, DiskStats: U, Dmesg: S,
      Events: S, EtcdMemberList: U, EtcdRemoveMemberByID: U, EtcdLeaveCluster: U, EtcdForfeitLeadership: U,
      EtcdRecover: C, EtcdSnapshot: S, EtcdAlarmList: U, EtcdAlarmDisarm: U, EtcdDefragment: U, EtcdStatus: U,
      EtcdDowngradeValidate: U, EtcdDowngradeEnable: U, EtcdDowngradeCancel: U, Hostname: U, Kubeconfig: S, List: S,
      DiskUsage: S, LoadAvg: U, Logs: S, LogsContainers: U, Memory: U, Mounts: U, NetworkDeviceStats: U, Processes: U,
      Read: S, Reboot: U, Restart: U, Rollback: U, Reset: U, ServiceList: U, ServiceRestart: U, ServiceStart: U,
      ServiceStop: U, Shutdown: U, Stats: U, SystemStat: U, Upgrade: U, Version: U, GenerateClientConfiguration: U,
      PacketCapture: S, Netstat: U, MetaWrite: U, MetaDelete: U, ImageList: S, ImagePull: U,
    },
  },
  { name: 'machine.ImageService', apid: true, envelope: false, methods: { List: S, Pull: S, Import: C, Remove: U, Verify: U } },
  { name: 'machine.LifecycleService', apid: true, envelope: false, methods: { Install: S, Upgrade: S } },
  { name: 'machine.DebugService', apid: true, envelope: false, methods: { ContainerRun: B } },
  { name: 'cluster.ClusterService', apid: true, envelope: true, methods: { HealthCheck: S } },
  { name: 'inspect.InspectService', apid: true, envelope: true, methods: { ControllerRuntimeDependencies: U } },
  { name: 'storage.StorageService', apid: true, envelope: true, methods: { Disks: U, BlockDeviceWipe: U } },
  { name: 'time.TimeService', apid: true, envelope: true, methods: { Time: U, TimeCheck: U } },
  { name: 'cosi.resource.State', apid: true, envelope: false, methods: { Get: U, List: S, Create: U, Update: U, Destroy: U, Watch: S } },
  { name: 'securityapi.SecurityService', apid: false, envelope: false, methods: { Certificate: U } },
];

/** Every gRPC service Bronze defines, with its methods' paths and streaming (no message codecs). */
export const services: readonly ServiceMethods[] = table.map(({ methods, ...s }) => ({
  ...s,
  definition: Object.fromEntries(
    Object.entries(methods).map(([name, [requestStream, responseStream]]) => [name, { path: `/${s.name}/${name}`, requestStream, responseStream }]),
  ),
}));

/** Every method of every service, keyed by its full path. */
export const methods = methodIndex(services);
