const brand = Symbol.for('bronze.config.error');

/** Stable codes of machine config errors; match on `code`, not on messages. */
export type ConfigErrorCode =
  /** the YAML does not parse */
  | 'BRONZE_CONFIG_YAML'
  /** a document is not a mapping, lacks kind/apiVersion, or names a kind we do not know */
  | 'BRONZE_CONFIG_DOCUMENT'
  /** the same document (apiVersion/kind/name) twice */
  | 'BRONZE_CONFIG_DUPLICATE'
  /** strict decoding failed: unknown keys or values of the wrong type */
  | 'BRONZE_CONFIG_DECODE'
  /** the config loaded but is not valid for the mode */
  | 'BRONZE_CONFIG_INVALID'
  /** no documents at all */
  | 'BRONZE_CONFIG_EMPTY'
  /** a patch does not load or does not apply */
  | 'BRONZE_CONFIG_PATCH'
  /** a secrets bundle is missing parts or holds bad material */
  | 'BRONZE_CONFIG_SECRETS'
  /** bad input to config generation */
  | 'BRONZE_CONFIG_GENERATE';

/** Where in the config a problem is: the document, the path inside it (`.machine.ca.key`), the line in the source. */
export interface ConfigIssue {
  /** `v1alpha1` for the legacy document, else `Kind` or `Kind/name` */
  document: string;
  /** dotted path from the document root, `.` for the document itself */
  path: string;
  /** 1-based line in the source text, when known */
  line?: number;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.document}: ${i.path}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`;
}

/** Every error of src/config. `issues` lists each problem with its document and path. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly issues: ConfigIssue[];

  constructor(code: ConfigErrorCode, message: string, issues: ConfigIssue[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
    this.code = code;
    this.issues = issues;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof ConfigError` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
