import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:dgram';

/** The functions of Bronze's native addon (native/src/bronze.c). */
export interface NativeAddon {
  /** SO_BINDTODEVICE: the socket sends and receives only on that link */
  bindToDevice(fd: number, ifname: string): void;
  /** PR_SET_PDEATHSIG: the kernel signals this process when the thread that started it ends (0 clears it) */
  setParentDeathSignal(signal: number): void;
  /** moves the system clock (CLOCK_REALTIME) by this many milliseconds; the time sync steps with it on metal */
  stepClock(offsetMs: number): void;
  /** has the kernel move the clock gradually by this many milliseconds (adjtime) */
  slewClock(offsetMs: number): void;
  /** mount(2); null leaves an argument out */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  /** umount2(2) */
  umount(target: string, flags: number): void;
}

/** mount(2) flags. */
export const MountFlags = { RDONLY: 1, REMOUNT: 32, BIND: 4096, REC: 16384, PRIVATE: 1 << 18 } as const;
/** umount2(2) flags. */
export const UmountFlags = { FORCE: 1, DETACH: 2 } as const;

export class NativeUnavailableError extends Error {
  readonly code = 'BRONZE_NATIVE_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'NativeUnavailableError';
  }
}

let addon: NativeAddon | undefined;

/**
 * Where the addon is looked for: $BRONZE_NATIVE, then native/build/Release beside the source or build tree, then beside
 * the bundle (the image has /usr/lib/bronze/dist/bronze.js and bronze.node).
 */
function candidates(): string[] {
  const list: string[] = [];
  if (process.env.BRONZE_NATIVE) list.push(process.env.BRONZE_NATIVE);
  // src/platform/native.ts and dist/platform/native.js are both two levels below the repository root
  list.push(new URL('../../native/build/Release/bronze.node', import.meta.url).pathname);
  list.push(new URL('./bronze.node', import.meta.url).pathname);
  return list;
}

/** Loads the addon once; throws NativeUnavailableError naming where it looked when it is not built. */
export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  for (const path of candidates()) {
    if (existsSync(path)) {
      addon = require(path) as NativeAddon;
      return addon;
    }
  }
  throw new NativeUnavailableError(`the native addon is not built (looked in ${candidates().join(', ')}): run \`make build\``);
}

/** The file descriptor under a bound dgram socket (Node keeps it in the socket's internal state). */
export function socketFd(socket: Socket): number {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym] : undefined;
  const fd = state?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new NativeUnavailableError('cannot find the file descriptor of the socket (is it bound?)');
  return fd;
}
