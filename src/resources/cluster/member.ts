import { MemberSpec as PB } from '../../api/gen/resource/definitions/cluster/cluster.js';
import { define, netIP } from '../codec.js';
import { MachineTypes, type MachineTypeName } from '../config/machine-type.js';
import { ClusterNamespace } from '../namespaces.js';
import type { ControlPlaneSpec } from './affiliate.js';

export const MemberType = 'Members.cluster.talos.dev';

/** A member of the cluster (id: its Kubernetes nodename): what `health` and `get members` show. */
export interface MemberSpec {
  nodeId: string;
  addresses: string[];
  hostname: string;
  machineType: MachineTypeName;
  operatingSystem: string;
  controlPlane?: ControlPlaneSpec;
}

export const memberDefinition = define<MemberSpec, PB>(
  {
    type: MemberType,
    defaultNamespace: ClusterNamespace,
    printColumns: [
      { name: 'Hostname', jsonPath: '{.hostname}' },
      { name: 'Machine Type', jsonPath: '{.machineType}' },
      { name: 'OS', jsonPath: '{.operatingSystem}' },
      { name: 'Addresses', jsonPath: '{.addresses}' },
    ],
    toYAML: (s) => ({
      nodeId: s.nodeId,
      addresses: s.addresses,
      hostname: s.hostname,
      machineType: s.machineType,
      operatingSystem: s.operatingSystem,
      ...(s.controlPlane ? { controlPlane: { port: s.controlPlane.port } } : {}),
    }),
  },
  PB,
  (s) => ({
    nodeId: s.nodeId,
    addresses: s.addresses.map(netIP),
    hostname: s.hostname,
    machineType: MachineTypes.number(s.machineType),
    operatingSystem: s.operatingSystem,
    controlPlane: s.controlPlane ? { apiServerPort: String(s.controlPlane.port) } : undefined,
  }),
);

/**
 * The nodes of a cluster as its members tell (`health` without node flags): control planes (init or controlplane)
 * and workers, each by its first address, in the members' order.
 */
export function nodesOfMembers(members: MemberSpec[]): { controlPlanes: string[]; workers: string[] } {
  const first = (m: MemberSpec) => m.addresses[0];
  const of = (pred: (m: MemberSpec) => boolean) => members.filter(pred).flatMap((m) => (first(m) ? [first(m)!] : []));
  return {
    controlPlanes: of((m) => m.machineType === 'controlplane' || m.machineType === 'init'),
    workers: of((m) => m.machineType === 'worker'),
  };
}
