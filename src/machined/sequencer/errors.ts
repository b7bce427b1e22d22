const brand = Symbol.for('bronze.sequencer.error');

/** Stable codes of sequencer errors; match on `code`, not on messages. */
export type SequencerErrorCode =
  | 'BRONZE_SEQUENCER_LOCKED'
  | 'BRONZE_SEQUENCER_LOCK_TIMEOUT'
  | 'BRONZE_SEQUENCER_NOT_IMPLEMENTED'
  | 'BRONZE_SEQUENCER_UNKNOWN_SEQUENCE'
  | 'BRONZE_SEQUENCER_INVALID_DATA'
  | 'BRONZE_SEQUENCER_FAILED'
  | 'BRONZE_SEQUENCER_CANCELED';

/** Every error of the sequencer; LOCKED is what a caller gets when another sequence holds the lock. */
export class SequencerError extends Error {
  readonly code: SequencerErrorCode;

  constructor(code: SequencerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SequencerError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof SequencerError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** Linux reboot(2) commands a sequence can end with (RestartEvent.cmd carries them). */
export const RebootCommand = {
  RESTART: 0x01234567,
  POWER_OFF: 0x4321fedc,
  HALT: 0xcdef0123,
  KEXEC: 0x45584543,
} as const;

/**
 * Not a failure: the last task of reboot/shutdown/reset ends the sequence with this, carrying what PID 1 (or the
 * process platform) must do next. The sequencer passes it through without reporting the sequence as failed.
 */
export class RebootRequested extends Error {
  readonly cmd: number;

  constructor(cmd: number) {
    super(`reboot requested: ${cmd === RebootCommand.POWER_OFF ? 'power off' : cmd === RebootCommand.HALT ? 'halt' : cmd === RebootCommand.KEXEC ? 'kexec' : 'restart'}`);
    this.name = 'RebootRequested';
    this.cmd = cmd;
  }
}

export function isRebootRequested(e: unknown): e is RebootRequested {
  return e instanceof RebootRequested;
}

/**
 * machined's exit status for PID 1 (initramfs/init.c), which turns it into the reboot(2) call: 0 powers off, 10
 * reboots, 11 restarts machined, 12 halts. A kexec reboot is a reboot for PID 1 (the kernel was loaded already).
 */
export function pid1ExitStatus(cmd: number): number {
  switch (cmd) {
    case RebootCommand.POWER_OFF:
      return 0;
    case RebootCommand.HALT:
      return 12;
    default:
      return 10;
  }
}

/** The exit status asking PID 1 to start machined again without a reboot. */
export const PID1_RESTART_MACHINED = 11;
