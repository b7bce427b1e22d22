const brand = Symbol.for('bronze.pki.error');

/** Stable codes of PKI errors; match on `code`, not on messages. */
export type PKIErrorCode =
  | 'BRONZE_PKI_PEM'
  | 'BRONZE_PKI_KEY'
  | 'BRONZE_PKI_CERTIFICATE'
  | 'BRONZE_PKI_CSR'
  | 'BRONZE_PKI_VERIFY'
  | 'BRONZE_PKI_OPTION';

/** Every error of src/pki: bad PEM, unsupported keys, certificates or CSRs that do not parse or verify. */
export class PKIError extends Error {
  readonly code: PKIErrorCode;

  constructor(code: PKIErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PKIError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof PKIError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
