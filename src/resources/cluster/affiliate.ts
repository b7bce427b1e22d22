import { AffiliateSpec as PB } from '../../api/gen/resource/definitions/cluster/cluster.js';
import { define, netIP } from '../codec.js';
import { MachineTypes, type MachineTypeName } from '../config/machine-type.js';
import { ClusterNamespace } from '../namespaces.js';

export const AffiliateType = 'Affiliates.cluster.talos.dev';
/** Affiliates as each registry reports them, before they are merged into the `cluster` namespace. */
export const RawNamespace = 'cluster-raw';

/** The API server port of a control plane affiliate. */
export interface ControlPlaneSpec {
  port: number;
}

/** A node of the cluster as discovery knows it (id: its node identity; raw ones: `<registry>/<node id>`). */
export interface AffiliateSpec {
  nodeId: string;
  addresses: string[];
  hostname: string;
  nodename: string;
  operatingSystem: string;
  machineType: MachineTypeName;
  controlPlane?: ControlPlaneSpec;
}

export const affiliateDefinition = define<AffiliateSpec, PB>(
  {
    type: AffiliateType,
    defaultNamespace: ClusterNamespace,
    printColumns: [
      { name: 'Hostname', jsonPath: '{.hostname}' },
      { name: 'Machine Type', jsonPath: '{.machineType}' },
      { name: 'Addresses', jsonPath: '{.addresses}' },
    ],
    toYAML: (s) => ({
      nodeId: s.nodeId,
      addresses: s.addresses,
      hostname: s.hostname,
      ...(s.nodename ? { nodename: s.nodename } : {}),
      operatingSystem: s.operatingSystem,
      machineType: s.machineType,
      ...(s.controlPlane ? { controlPlane: { port: s.controlPlane.port } } : {}),
    }),
  },
  PB,
  (s) => ({
    nodeId: s.nodeId,
    addresses: s.addresses.map(netIP),
    hostname: s.hostname,
    nodename: s.nodename,
    operatingSystem: s.operatingSystem,
    machineType: MachineTypes.number(s.machineType),
    controlPlane: s.controlPlane ? { apiServerPort: String(s.controlPlane.port) } : undefined,
  }),
);

/** Talos's merge of one registry's view of a node into another's: addresses add up, set fields win. */
export function mergeAffiliate(into: AffiliateSpec, other: AffiliateSpec): AffiliateSpec {
  return {
    nodeId: into.nodeId,
    addresses: [...into.addresses, ...other.addresses.filter((a) => !into.addresses.includes(a))],
    hostname: other.hostname || into.hostname,
    nodename: other.nodename || into.nodename,
    operatingSystem: into.operatingSystem || other.operatingSystem,
    machineType: other.machineType !== 'unknown' ? other.machineType : into.machineType,
    ...(other.controlPlane ?? into.controlPlane ? { controlPlane: other.controlPlane ?? into.controlPlane } : {}),
  };
}
