import { SequencerError } from './errors.js';

/** Sequence names, as they appear on the wire (SequenceEvent.sequence). */
export const SEQUENCES = ['noop', 'boot', 'initialize', 'install', 'shutdown', 'upgrade', 'stageUpgrade', 'maintenanceUpgrade', 'reset', 'reboot', 'emergencyVolumeCleanup'] as const;

export type SequenceName = (typeof SEQUENCES)[number];

/** Which running sequence each requested one may preempt (Talos's take-over table); anything may replace `noop`. */
const TAKE_OVER: Partial<Record<SequenceName, ReadonlySet<SequenceName>>> = {
  initialize: new Set<SequenceName>(['maintenanceUpgrade', 'reboot', 'emergencyVolumeCleanup']),
  boot: new Set<SequenceName>(['reboot', 'reset', 'upgrade', 'emergencyVolumeCleanup']),
  reboot: new Set<SequenceName>(['reboot']),
  reset: new Set<SequenceName>(['reboot']),
};

/** Whether `requested` may cancel `running` and take its place. */
export function canTakeOver(requested: SequenceName, running: SequenceName): boolean {
  if (running === 'noop') return true;
  return TAKE_OVER[running]?.has(requested) ?? false;
}

export function parseSequence(s: string): SequenceName {
  if ((SEQUENCES as readonly string[]).includes(s)) return s as SequenceName;
  throw new SequencerError('BRONZE_SEQUENCER_UNKNOWN_SEQUENCE', `unknown runtime sequence: ${JSON.stringify(s)}`);
}
