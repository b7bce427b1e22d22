import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { type ProbedDevice, scanBlockDevices, type ScanOptions } from './block-probe.js';
import { native } from './native.js';

/** Talos's label of the volume that keeps the machine config and the node identity. */
export const STATE_LABEL = 'STATE';

const brand = Symbol.for('bronze.platform.volume-error');

export type VolumeErrorCode = 'BRONZE_VOLUME_MOUNT' | 'BRONZE_VOLUME_SCAN' | 'BRONZE_VOLUME_INVALID_ARGUMENT';

/** A volume that could not be looked for or mounted; match on `code`. */
export class VolumeError extends Error {
  readonly code: VolumeErrorCode;

  constructor(code: VolumeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VolumeError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** A line of /proc/self/mountinfo, the fields a volume needs. */
export interface MountInfo {
  source: string;
  mountPoint: string;
  fsType: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses /proc/self/mountinfo text (fields: id parent major:minor root mount-point options [optional...] - type source super-options). */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || dash + 2 >= f.length) continue;
    out.push({ mountPoint: unescape(f[4]!), fsType: f[dash + 1]!, source: unescape(f[dash + 2]!) });
  }
  return out;
}

/** What became of the STATE volume at boot. */
export type StateVolumeResult =
  /** mounted now from this device */
  | { kind: 'mounted'; device: ProbedDevice; mountPoint: string; others: ProbedDevice[] }
  /** already mounted there (machined started again on a running node) */
  | { kind: 'already-mounted'; source: string; fsType: string; mountPoint: string }
  /** no filesystem labelled STATE: the directory stays what it was (PID 1's tmpfs) */
  | { kind: 'absent'; mountPoint: string };

export interface StateVolumeOptions extends ScanOptions {
  /** where STATE is mounted (Talos's /system/state) */
  target: string;
  /** the label looked for (default STATE) */
  label?: string;
  /** the mount table (default: /proc/self/mountinfo) */
  mountInfo?: () => string;
  /** mount(2) (default: the native addon's) */
  mount?: (source: string, target: string, fsType: string) => void;
  /** devices that could not be probed, and why */
  onSkip?: (name: string, why: string) => void;
}

/**
 * Finds the filesystem labelled STATE among the machine's block devices and mounts it at `target`, so the machine
 * config and the node identity written there outlive a reboot. When several devices carry the label the first by
 * kernel name is used and the rest are reported. Throws VolumeError when the devices cannot be listed or the mount
 * fails; a machine without such a filesystem is not an error.
 */
export function mountStateVolume(opts: StateVolumeOptions): StateVolumeResult {
  if (!opts.target.startsWith('/')) throw new VolumeError('BRONZE_VOLUME_INVALID_ARGUMENT', `the STATE mount point must be an absolute path, not ${JSON.stringify(opts.target)}`);
  const mountPoint = resolve(opts.target);
  const label = opts.label ?? STATE_LABEL;
  const table = parseMountInfo(opts.mountInfo ? opts.mountInfo() : readFileSync('/proc/self/mountinfo', 'utf8'));
  const current = table.filter((m) => m.mountPoint === mountPoint).at(-1);
  if (current) return { kind: 'already-mounted', source: current.source, fsType: current.fsType, mountPoint };
  let devices: ProbedDevice[];
  try {
    devices = scanBlockDevices(opts).filter((d) => d.label === label);
  } catch (e) {
    throw new VolumeError('BRONZE_VOLUME_SCAN', `listing block devices to find ${label}: ${(e as Error).message}`, { cause: e });
  }
  const [device, ...others] = devices;
  if (!device) return { kind: 'absent', mountPoint };
  const mount = opts.mount ?? ((source: string, target: string, fsType: string) => native().mount(source, target, fsType, 0, null));
  try {
    mkdirSync(mountPoint, { recursive: true, mode: 0o700 });
    mount(device.device, mountPoint, device.type);
  } catch (e) {
    throw new VolumeError('BRONZE_VOLUME_MOUNT', `mounting ${label} (${device.type} on ${device.device}) at ${mountPoint}: ${(e as Error).message}`, { cause: e });
  }
  return { kind: 'mounted', device, mountPoint, others };
}

/** Tells what became of STATE at boot (a failure is a warning: the node goes on with the state directory it has). */
export function logStateVolume(logger: Logger, result: StateVolumeResult | Error): void {
  if (result instanceof Error) {
    logger.warn({ err: result.message }, 'STATE volume not mounted: the state directory is not kept across reboots');
    return;
  }
  switch (result.kind) {
    case 'mounted':
      logger.info({ source: result.device.device, path: result.mountPoint, fsType: result.device.type, uuid: result.device.uuid }, 'STATE volume mounted');
      if (result.others.length > 0) logger.warn({ ignored: result.others.map((d) => d.device) }, `more than one filesystem is labelled ${STATE_LABEL}: using ${result.device.device}`);
      return;
    case 'already-mounted':
      logger.info({ source: result.source, path: result.mountPoint, fsType: result.fsType }, 'STATE volume already mounted');
      return;
    case 'absent':
      logger.info({ path: result.mountPoint }, `no filesystem labelled ${STATE_LABEL}: the state directory is not kept across reboots`);
  }
}
