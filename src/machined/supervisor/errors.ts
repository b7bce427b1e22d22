const brand = Symbol.for('bronze.supervisor.error');

/** Stable codes of supervisor errors; match on `code`, not on messages. */
export type SupervisorErrorCode =
  | 'BRONZE_SUPERVISOR_NOT_DEFINED'
  | 'BRONZE_SUPERVISOR_API_NOT_ALLOWED'
  | 'BRONZE_SUPERVISOR_INVALID_OPTION'
  | 'BRONZE_SUPERVISOR_PROCESS_EXIT'
  | 'BRONZE_SUPERVISOR_SPAWN'
  | 'BRONZE_SUPERVISOR_CONDITION'
  | 'BRONZE_SUPERVISOR_PRE'
  | 'BRONZE_SUPERVISOR_RUNNER'
  | 'BRONZE_SUPERVISOR_TIMEOUT';

/** Every error of the service supervisor; messages follow Talos's wording (`service "x" not defined`). */
export class SupervisorError extends Error {
  readonly code: SupervisorErrorCode;

  constructor(code: SupervisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SupervisorError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof SupervisorError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
