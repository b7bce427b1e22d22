/**
 * A small schema language for machine config documents. One description per field drives strict decoding
 * (unknown keys and wrong types are errors with a path), the JSON schema validated by json-schema.ts, canonical encoding
 * in Talos's field order with omitempty rules and documentation comments, and strategic merge patches.
 */

/** An example shown (commented out) by `gen config --with-examples`. */
export interface Example {
  value: unknown;
  /** what the example shows; becomes `# # <doc>` above it */
  doc?: string;
}

interface Common {
  /** one-line description, shown by `gen config --with-docs` */
  doc?: string;
  examples?: Example[];
  /**
   * Field is omitted when empty (Go's `omitempty`); default true. Fields with `omit: false` are always written,
   * with their zero value (`[]`, `{}`, `""`) when unset.
   */
  omit?: boolean;
  /**
   * Field is a pointer in Talos's Go types: an explicit zero value is kept (and overrides on merge), only absence is
   * "unset". Default: true for bool and object, false for the rest.
   */
  ptr?: boolean;
  /** deprecated: accepted, with this note */
  deprecated?: string;
}

export interface StrSchema extends Common {
  k: 'str';
  enum?: readonly string[];
  pattern?: string;
  /** checked format: `cidr`, `ip`, `ipOrCidr`, `url`, `hostPort`, `base64`, `pem` */
  format?: 'cidr' | 'ip' | 'ipOrCidr' | 'url' | 'hostPort' | 'base64' | 'pem';
}
export interface BoolSchema extends Common {
  k: 'bool';
}
export interface IntSchema extends Common {
  k: 'int';
  min?: number;
  max?: number;
}
export interface NumSchema extends Common {
  k: 'num';
}
/** A Go duration string such as `10s` or `1h30m`. */
export interface DurSchema extends Common {
  k: 'dur';
}
/** An integer or a string with units (`4GB`, `50%`): Talos's byte and disk sizes. */
export interface SizeSchema extends Common {
  k: 'size';
}
/** Any YAML (Talos's Unstructured): `object` requires a mapping at the top. */
export interface AnySchema extends Common {
  k: 'any';
  object?: boolean;
  /** `replace`: a patch replaces the whole value (Talos's `merge:"replace"`) */
  merge?: 'deep' | 'replace';
}
/** A string or a list of strings (values of `extraArgs`). */
export interface StrOrListSchema extends Common {
  k: 'strOrList';
}
export interface ListSchema<T extends Schema = Schema> extends Common {
  k: 'list';
  of: T;
  /**
   * How a strategic merge patch combines lists: `append` (default), `replace` (the patch's list wins), or keyed:
   * items with the same value of the first key present are merged, others appended.
   */
  merge?: 'append' | 'replace' | { by: readonly string[]; replaceItem?: boolean };
}
export interface MapSchema<T extends Schema = Schema> extends Common {
  k: 'map';
  of: T;
  /** `deep` (default) merges values per key; `replace` replaces each value the patch sets (Args) */
  merge?: 'deep' | 'replace';
}
export type Fields = Record<string, Schema>;
export interface ObjSchema<F extends Fields = Fields> extends Common {
  k: 'obj';
  fields: F;
  /** merge: `replace` replaces the whole object when the patch sets it */
  merge?: 'deep' | 'replace';
}

export type Schema = StrSchema | BoolSchema | IntSchema | NumSchema | DurSchema | SizeSchema | AnySchema | StrOrListSchema | ListSchema | MapSchema | ObjSchema;

type Opts<S> = Omit<S, 'k' | 'of' | 'fields'>;

export const str = (o: Opts<StrSchema> = {}): StrSchema => ({ k: 'str', ...o });
export const bool = (o: Opts<BoolSchema> = {}): BoolSchema => ({ k: 'bool', ...o });
export const int = (o: Opts<IntSchema> = {}): IntSchema => ({ k: 'int', ...o });
export const uint32 = (o: Opts<IntSchema> = {}): IntSchema => ({ k: 'int', min: 0, max: 4294967295, ...o });
export const uint16 = (o: Opts<IntSchema> = {}): IntSchema => ({ k: 'int', min: 0, max: 65535, ...o });
export const uint8 = (o: Opts<IntSchema> = {}): IntSchema => ({ k: 'int', min: 0, max: 255, ...o });
export const num = (o: Opts<NumSchema> = {}): NumSchema => ({ k: 'num', ...o });
export const dur = (o: Opts<DurSchema> = {}): DurSchema => ({ k: 'dur', ...o });
export const size = (o: Opts<SizeSchema> = {}): SizeSchema => ({ k: 'size', ...o });
export const any = (o: Opts<AnySchema> = {}): AnySchema => ({ k: 'any', ...o });
export const strOrList = (o: Opts<StrOrListSchema> = {}): StrOrListSchema => ({ k: 'strOrList', ...o });
export const list = <T extends Schema>(of: T, o: Opts<ListSchema<T>> = {}): ListSchema<T> => ({ k: 'list', of, ...o });
export const map = <T extends Schema>(of: T, o: Opts<MapSchema<T>> = {}): MapSchema<T> => ({ k: 'map', of, ...o });
export const obj = <F extends Fields>(fields: F, o: Opts<ObjSchema<F>> = {}): ObjSchema<F> => ({ k: 'obj', fields, ...o });

/** Talos's `extraArgs`: argument name to a value or a list of values; a patch replaces each argument it sets. */
export const args = (o: Opts<MapSchema<StrOrListSchema>> = {}): MapSchema<StrOrListSchema> => map(strOrList(), { merge: 'replace', ...o });
/** map of strings (labels, env, sysctls) */
export const strMap = (o: Opts<MapSchema<StrSchema>> = {}): MapSchema<StrSchema> => map(str(), o);
export const strList = (o: Opts<ListSchema<StrSchema>> = {}): ListSchema<StrSchema> => list(str(), o);

/** Whether a field keeps explicit zero values (a Go pointer). */
export function isPointer(s: Schema): boolean {
  return s.ptr ?? (s.k === 'bool' || s.k === 'obj');
}

/** The TypeScript type a schema decodes to. */
export type Infer<S> = S extends StrSchema | DurSchema
  ? string
  : S extends BoolSchema
    ? boolean
    : S extends IntSchema | NumSchema
      ? number
      : S extends SizeSchema
        ? string | number
        : S extends StrOrListSchema
          ? string | string[]
          : S extends ListSchema<infer T>
            ? Infer<T>[]
            : S extends MapSchema<infer T>
              ? Record<string, Infer<T>>
              : S extends ObjSchema<infer F>
                ? { [K in keyof F]?: Infer<F[K]> }
                : unknown;
