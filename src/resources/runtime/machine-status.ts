import { MachineStatusSpec as PB } from '../../api/gen/resource/definitions/runtime/runtime.js';
import { define, TextEnum } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const MachineStatusType = 'MachineStatuses.runtime.talos.dev';
export const MachineStatusID = 'machine';

export const MachineStage = new TextEnum([
  ['unknown', 0],
  ['booting', 1],
  ['installing', 2],
  ['maintenance', 3],
  ['running', 4],
  ['rebooting', 5],
  ['shutting down', 6],
  ['resetting', 7],
  ['upgrading', 8],
] as const);
export type MachineStageName = (typeof MachineStage.pairs)[number][0];

export interface UnmetCondition {
  name: string;
  reason: string;
}

/** The machine's stage and readiness, with what keeps it from being ready. */
export interface MachineStatusSpec {
  stage: MachineStageName;
  status: { ready: boolean; unmetConditions: UnmetCondition[] };
}

export const machineStatusDefinition = define<MachineStatusSpec, PB>(
  {
    type: MachineStatusType,
    defaultNamespace: RuntimeNamespace,
    printColumns: [
      { name: 'Stage', jsonPath: '{.stage}' },
      { name: 'Ready', jsonPath: '{.status.ready}' },
    ],
  },
  PB,
  (s) => ({ stage: MachineStage.number(s.stage), status: { ready: s.status.ready, unmetConditions: s.status.unmetConditions } }),
);
