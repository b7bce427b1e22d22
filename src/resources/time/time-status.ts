import { StatusSpec as PB } from '../../api/gen/resource/definitions/time/time.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const TimeStatusType = 'TimeStatuses.v1alpha1.talos.dev';
export const TimeStatusID = 'node';

/** Whether the clock is synchronized; `epoch` counts the big jumps of the clock. */
export interface TimeStatusSpec {
  synced: boolean;
  epoch: number;
  syncDisabled: boolean;
}

export const timeStatusDefinition = define<TimeStatusSpec, PB>(
  { type: TimeStatusType, defaultNamespace: RuntimeNamespace, printColumns: [{ name: 'Synced', jsonPath: '{.synced}' }] },
  PB,
  (s) => ({ synced: s.synced, epoch: String(s.epoch), syncDisabled: s.syncDisabled }),
);
