import { RuntimeNamespace } from '../namespaces.js';

export const MachineResetSignalType = 'MachineResetSignals.runtime.talos.dev';
export const MachineResetSignalID = 'machine';

/**
 * Created by the reset sequence (its `preReset` phase) once the node is about to be wiped: controllers let go of what
 * the node holds outside itself, such as its entry in the discovery service. It has no spec.
 */
export const machineResetSignalDefinition = { type: MachineResetSignalType, defaultNamespace: RuntimeNamespace };
