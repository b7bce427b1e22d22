import { status } from '@grpc/grpc-js';

const brand = Symbol.for('bronze.meta.error');

/**
 * Stable codes of META errors; match on `code`, not on messages. The first four are refusals the API hands back with
 * Talos's own status and message; the rest describe a META area that cannot be read.
 */
export type MetaErrorCode =
  /** The key is not an integer in 0..255 (InvalidArgument, "key must be a uint8"). */
  | 'BRONZE_META_INVALID_KEY'
  /** Key 0 ends the records of a block, so it cannot hold a value (InvalidArgument). */
  | 'BRONZE_META_RESERVED_KEY'
  /** Delete of a key that has no value (NotFound, "meta key not found"). */
  | 'BRONZE_META_KEY_NOT_FOUND'
  /** The values would not fit in one block (ResourceExhausted, "meta write failed"). */
  | 'BRONZE_META_FULL'
  /** A block is not exactly 256 KiB long. */
  | 'BRONZE_META_BAD_LENGTH'
  /** A block's leading or trailing magic number is wrong. */
  | 'BRONZE_META_BAD_MAGIC'
  /** A block's SHA-256 does not match its contents. */
  | 'BRONZE_META_BAD_CHECKSUM'
  /** A record's value runs past the end of the data area. */
  | 'BRONZE_META_TRUNCATED'
  /** A record carries a tag that is not a uint8. */
  | 'BRONZE_META_BAD_TAG'
  /** Neither copy of the META area is readable and the area is not blank. */
  | 'BRONZE_META_CORRUPT'
  /** The META file does not exist and the store was not asked to create it. */
  | 'BRONZE_META_MISSING'
  /** The META path is neither a regular file nor a block device. */
  | 'BRONZE_META_UNSUPPORTED_PATH';

/** Every error of the META store: refused keys and writes (with Talos's gRPC status) and unreadable areas. */
export class MetaError extends Error {
  readonly code: MetaErrorCode;
  /** The gRPC status the API answers with when this error reaches it. */
  readonly grpcCode: status;

  constructor(code: MetaErrorCode, grpcCode: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetaError';
    this.code = code;
    this.grpcCode = grpcCode;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof MetaError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** The refusal for a key outside 0..255, worded as Talos words it. */
export const invalidKeyError = (): MetaError => new MetaError('BRONZE_META_INVALID_KEY', status.INVALID_ARGUMENT, 'key must be a uint8');

/** The refusal for key 0, the records' terminator. */
export const reservedKeyError = (): MetaError => new MetaError('BRONZE_META_RESERVED_KEY', status.INVALID_ARGUMENT, 'meta key 0 is reserved');

/** The refusal for deleting a key without a value, worded as Talos words it. */
export const keyNotFoundError = (): MetaError => new MetaError('BRONZE_META_KEY_NOT_FOUND', status.NOT_FOUND, 'meta key not found');

/** The refusal for values that do not fit, worded as Talos words it. */
export const fullError = (): MetaError => new MetaError('BRONZE_META_FULL', status.RESOURCE_EXHAUSTED, 'meta write failed');

/** An unreadable block or area; the data on disk is damaged, hence DataLoss. */
export const corruptError = (code: MetaErrorCode, message: string, cause?: unknown): MetaError =>
  new MetaError(code, status.DATA_LOSS, message, cause === undefined ? undefined : { cause });
