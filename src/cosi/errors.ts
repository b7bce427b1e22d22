import { status } from '@grpc/grpc-js';

const brand = Symbol.for('bronze.cosi.error');

/**
 * Every error code of the resource store and the controller runtime, what it means, and the gRPC status the
 * `cosi.resource.State` service answers with (the codes COSI's own server uses). Callers match on `code` or on the
 * classification helpers below, never on messages.
 */
export const cosiErrorCodes = {
  BRONZE_COSI_NOT_FOUND: { grpc: status.NOT_FOUND, meaning: 'the resource does not exist' },
  BRONZE_COSI_ALREADY_EXISTS: { grpc: status.ALREADY_EXISTS, meaning: 'create found a resource with the same ID' },
  BRONZE_COSI_VERSION_CONFLICT: { grpc: status.FAILED_PRECONDITION, meaning: 'an update carried a version other than the stored one' },
  BRONZE_COSI_OWNER_CONFLICT: { grpc: status.PERMISSION_DENIED, meaning: 'the resource belongs to another owner' },
  BRONZE_COSI_PHASE_CONFLICT: { grpc: status.INVALID_ARGUMENT, meaning: 'the resource is not in the phase the update expected' },
  BRONZE_COSI_PENDING_FINALIZERS: { grpc: status.FAILED_PRECONDITION, meaning: 'destroy found finalizers on the resource' },
  BRONZE_COSI_INVALID_BOOKMARK: { grpc: status.FAILED_PRECONDITION, meaning: 'a watch bookmark is not from this store or has left its history' },
  BRONZE_COSI_UNSUPPORTED: { grpc: status.UNIMPLEMENTED, meaning: 'the combination of watch options is not supported' },
  BRONZE_COSI_ACCESS_DENIED: { grpc: status.PERMISSION_DENIED, meaning: 'a filtered view or the API access policy refused the call' },
  BRONZE_COSI_INVALID_RESOURCE: { grpc: status.INVALID_ARGUMENT, meaning: 'a resource or request is malformed (missing ID, bad phase, undecodable spec)' },
  BRONZE_COSI_INVALID_DEFINITION: { grpc: status.INVALID_ARGUMENT, meaning: 'a resource type definition is malformed or registered twice' },
  BRONZE_COSI_NOT_INPUT: { grpc: status.PERMISSION_DENIED, meaning: 'a controller read, or changed finalizers of, a resource it does not declare as input' },
  BRONZE_COSI_NOT_OUTPUT: { grpc: status.PERMISSION_DENIED, meaning: 'a controller wrote a resource type it does not declare as output' },
  BRONZE_COSI_REGISTRATION: { grpc: status.INVALID_ARGUMENT, meaning: 'a controller cannot be registered (duplicate name, exclusive output taken)' },
  BRONZE_COSI_SERVER: { grpc: status.UNAVAILABLE, meaning: 'the State server cannot listen, or is stopping' },
  BRONZE_COSI_WATCH_FAILED: { grpc: status.ABORTED, meaning: 'a watch ended with an error event, or ended before a condition was met' },
} as const;

export type CosiErrorCode = keyof typeof cosiErrorCodes;

/** The one error class of the COSI area (resources, state, controller runtime); `code` says what went wrong. */
export class CosiError extends Error {
  readonly code: CosiErrorCode;

  constructor(code: CosiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CosiError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof CosiError` holds across duplicate copies of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

const is =
  (...codes: CosiErrorCode[]) =>
  (e: unknown): boolean =>
    e instanceof CosiError && codes.includes(e.code);

export const isNotFound = is('BRONZE_COSI_NOT_FOUND');
export const isAlreadyExists = is('BRONZE_COSI_ALREADY_EXISTS');
export const isVersionConflict = is('BRONZE_COSI_VERSION_CONFLICT');
export const isOwnerConflict = is('BRONZE_COSI_OWNER_CONFLICT');
export const isPhaseConflict = is('BRONZE_COSI_PHASE_CONFLICT');
export const isPendingFinalizers = is('BRONZE_COSI_PENDING_FINALIZERS');
export const isInvalidBookmark = is('BRONZE_COSI_INVALID_BOOKMARK');
export const isUnsupported = is('BRONZE_COSI_UNSUPPORTED');
export const isAccessDenied = is('BRONZE_COSI_ACCESS_DENIED');
/**
 * Any conflict, as COSI classifies them: an existing resource on create, a stale version, pending finalizers, and
 * owner and phase conflicts (conflicts too, of a more specific kind).
 */
export const isConflict = is(
  'BRONZE_COSI_ALREADY_EXISTS',
  'BRONZE_COSI_VERSION_CONFLICT',
  'BRONZE_COSI_PENDING_FINALIZERS',
  'BRONZE_COSI_OWNER_CONFLICT',
  'BRONZE_COSI_PHASE_CONFLICT',
);
