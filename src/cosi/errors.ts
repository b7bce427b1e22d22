/** Stable codes of resource-store errors; callers match on `code` (or the isXxx helpers), never on messages. */
export type StateErrorCode =
  | 'BRONZE_COSI_NOT_FOUND'
  | 'BRONZE_COSI_CONFLICT'
  | 'BRONZE_COSI_ALREADY_EXISTS'
  | 'BRONZE_COSI_OWNER_CONFLICT'
  | 'BRONZE_COSI_PHASE_CONFLICT'
  | 'BRONZE_COSI_PENDING_FINALIZERS'
  | 'BRONZE_COSI_INVALID_BOOKMARK'
  | 'BRONZE_COSI_UNSUPPORTED'
  | 'BRONZE_COSI_READ_ONLY'
  | 'BRONZE_COSI_ACCESS_DENIED'
  | 'BRONZE_COSI_OUTPUT_NOT_DECLARED'
  | 'BRONZE_COSI_INVALID';

export class StateError extends Error {
  constructor(
    readonly code: StateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StateError';
  }
}

const is = (code: StateErrorCode) => (e: unknown) => e instanceof StateError && e.code === code;

export const isNotFound = is('BRONZE_COSI_NOT_FOUND');
export const isAlreadyExists = is('BRONZE_COSI_ALREADY_EXISTS');
export const isOwnerConflict = is('BRONZE_COSI_OWNER_CONFLICT');
export const isPhaseConflict = is('BRONZE_COSI_PHASE_CONFLICT');
export const isPendingFinalizers = is('BRONZE_COSI_PENDING_FINALIZERS');
export const isInvalidBookmark = is('BRONZE_COSI_INVALID_BOOKMARK');
export const isUnsupported = is('BRONZE_COSI_UNSUPPORTED');
/** Any conflict: a stale version, an existing resource, pending finalizers. */
export const isConflict = (e: unknown) =>
  e instanceof StateError && (e.code === 'BRONZE_COSI_CONFLICT' || e.code === 'BRONZE_COSI_ALREADY_EXISTS' || e.code === 'BRONZE_COSI_PENDING_FINALIZERS');
export const isAccessDenied = (e: unknown) => e instanceof StateError && (e.code === 'BRONZE_COSI_ACCESS_DENIED' || e.code === 'BRONZE_COSI_READ_ONLY');
