import { parseGoDuration } from './decode.js';
import type { MachineConfig } from './document.js';

/** Time synchronization as a machine config asks for it (`TimeSyncConfig`, or the legacy `machine.time`). */
export interface TimeSyncSettings {
  disabled: boolean;
  /** NTP servers (PTP devices for a PTP TimeSyncConfig); undefined when the config names none */
  servers: string[] | undefined;
  /** how long boot waits for the first sync; 0 when the config does not say */
  bootTimeoutMs: number;
}

const ms = (v: unknown) => (typeof v === 'string' ? (parseGoDuration(v) ?? 0) : 0);

/** The config's time sync settings; undefined when it has neither a TimeSyncConfig nor `machine.time`. */
export function timeSyncSettings(cfg: MachineConfig): TimeSyncSettings | undefined {
  const doc = cfg.find('TimeSyncConfig');
  if (doc) {
    const v = doc.value as { enabled?: boolean; bootTimeout?: string; ntp?: { servers?: string[] }; ptp?: { devices?: string[] } };
    return { disabled: v.enabled === false, servers: v.ntp?.servers ?? v.ptp?.devices, bootTimeoutMs: ms(v.bootTimeout) };
  }
  const t = cfg.v1alpha1?.machine?.time as { disabled?: boolean; servers?: string[]; bootTimeout?: string } | undefined;
  if (!t) return undefined;
  return { disabled: t.disabled === true, servers: t.servers, bootTimeoutMs: ms(t.bootTimeout) };
}
