const brand = Symbol.for('bronze.sys.error');

/** Stable codes of OS-access errors (src/sys); match on `code`, not on messages. */
export type SysErrorCode =
  | 'BRONZE_SYS_PARSE'
  | 'BRONZE_SYS_NOT_FOUND'
  | 'BRONZE_SYS_INVALID_ARGUMENT'
  | 'BRONZE_SYS_NOT_REGULAR'
  | 'BRONZE_SYS_ABORTED';

/** Every error of the /proc and /sys readers and the file helpers: unparsable files, bad paths, aborted walks. */
export class SysError extends Error {
  readonly code: SysErrorCode;

  constructor(code: SysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SysError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof SysError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** The errno code of a Node fs error, or undefined. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException).code : undefined;
}
