const brand = Symbol.for('bronze.logs.error');

/** Stable codes of service-log errors; match on `code`, not on messages. */
export type LogsErrorCode = 'BRONZE_LOGS_NOT_REGISTERED' | 'BRONZE_LOGS_INVALID_ID' | 'BRONZE_LOGS_INVALID_OPTION' | 'BRONZE_LOGS_CLOSED';

/** Every error of the service log buffers: unknown logs, bad ids or options, writes after close. */
export class LogsError extends Error {
  readonly code: LogsErrorCode;

  constructor(code: LogsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogsError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof LogsError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
