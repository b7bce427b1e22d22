import { MachineTypeSpec as PB } from '../../api/gen/resource/config/config.js';
import { define, TextEnum } from '../codec.js';
import { ConfigNamespace } from '../namespaces.js';

export const MachineTypeType = 'MachineTypes.config.talos.dev';
export const MachineTypeID = 'machine-type';

export const MachineTypes = new TextEnum([
  ['unknown', 0],
  ['init', 1],
  ['controlplane', 2],
  ['worker', 3],
] as const);
export type MachineTypeName = (typeof MachineTypes.pairs)[number][0];

/** The node's role; its YAML spec is the bare name (`controlplane`, `worker`, ...). */
export interface MachineTypeSpec {
  type: MachineTypeName;
}

export const machineTypeDefinition = define<MachineTypeSpec, PB>(
  { type: MachineTypeType, defaultNamespace: ConfigNamespace, printColumns: [{ name: 'Type', jsonPath: '{@}' }], toYAML: (s) => s.type },
  PB,
  (s) => ({ machineType: MachineTypes.number(s.type) }),
);

/** Control planes (init or controlplane) run etcd, trustd and forward API calls. */
export const isControlPlane = (t: MachineTypeName) => t === 'controlplane' || t === 'init';
