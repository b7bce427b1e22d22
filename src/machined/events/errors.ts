const brand = Symbol.for('bronze.events.error');

/** Stable codes of event-stream errors; match on `code`, not on messages. */
export type EventsErrorCode = 'BRONZE_EVENTS_INVALID_ID' | 'BRONZE_EVENTS_INVALID_OPTIONS' | 'BRONZE_EVENTS_OVERRUN' | 'BRONZE_EVENTS_UNKNOWN_TYPE';

/** Every error of the machined event stream: bad xids, conflicting tail options, watchers that fell behind. */
export class EventsError extends Error {
  readonly code: EventsErrorCode;

  constructor(code: EventsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventsError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof EventsError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
