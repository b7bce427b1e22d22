/**
 * JSON Schema (draft-07) of every document kind, generated from the field descriptions, and validators for
 * them. Decoding has already checked structure and types; the JSON schema adds the value constraints Talos's types
 * enforce while decoding (enumerations, ranges, addresses, prefixes, durations).
 */
import { isAddrPort, isCIDR, isIP, isIPOrCIDR, parseGoURL } from '../net.js';
import type { Schema } from './dsl.js';

export type JSONSchema = Record<string, unknown>;

const durationPattern = '^[-+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';

/** The JSON schema of a field description. */
export function toJSONSchema(s: Schema): JSONSchema {
  const out: JSONSchema = {};
  if (s.doc) out.description = s.doc;
  if (s.deprecated) out.deprecated = true;
  switch (s.k) {
    case 'str':
      out.type = 'string';
      // a field always written gets its zero value when unset: accept that
      if (s.enum) out.enum = s.omit === false && !s.enum.includes('') ? [...s.enum, ''] : [...s.enum];
      if (s.pattern) out.pattern = s.pattern;
      if (s.format && s.format !== 'pem') out.format = s.format;
      break;
    case 'bool':
      out.type = 'boolean';
      break;
    case 'int':
      out.type = 'integer';
      if (s.min !== undefined) out.minimum = s.min;
      if (s.max !== undefined) out.maximum = s.max;
      break;
    case 'num':
      out.type = 'number';
      break;
    case 'dur':
      out.type = 'string';
      out.pattern = durationPattern;
      break;
    case 'size':
      out.type = ['integer', 'string'];
      break;
    case 'strOrList':
      out.anyOf = [{ type: 'string' }, { type: 'array', items: { type: 'string' } }];
      break;
    case 'any':
      if (s.object) out.type = 'object';
      break;
    case 'list':
      out.type = 'array';
      out.items = toJSONSchema(s.of);
      break;
    case 'map':
      out.type = 'object';
      out.additionalProperties = toJSONSchema(s.of);
      break;
    case 'obj':
      out.type = 'object';
      out.properties = Object.fromEntries(Object.entries(s.fields).map(([k, v]) => [k, toJSONSchema(v)]));
      out.additionalProperties = false;
      break;
  }
  return out;
}

/** One failed constraint, shaped as JSON-schema validators report them (path in JSON-pointer form). */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
}

/** A validator: true when the value meets the schema; otherwise `errors` lists every failed constraint. */
export interface ValidateFunction {
  (data: unknown): boolean;
  errors: SchemaError[] | null;
}

// as Go's text unmarshalers (netip, url), an empty value is the zero value, not an error
const formats: Record<string, (v: string) => boolean> = {
  ip: (v) => v === '' || isIP(v),
  cidr: (v) => v === '' || isCIDR(v),
  ipOrCidr: (v) => v === '' || isIPOrCIDR(v),
  hostPort: (v) => v === '' || isAddrPort(v),
  base64: (v) => /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v),
  url: (v) => typeof parseGoURL(v) !== 'string',
};

/** The keywords toJSONSchema writes; anything else in a schema is a mistake in this file. */
const KEYWORDS = new Set(['$schema', 'description', 'deprecated', 'type', 'enum', 'pattern', 'format', 'minimum', 'maximum', 'anyOf', 'items', 'properties', 'additionalProperties']);

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function hasType(t: string, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'null':
      return v === null;
    default:
      return false;
  }
}

/**
 * A schema made ready to check values: its patterns compiled once and its keywords checked. The JSON schemas here use a
 * small part of draft-07, so they are walked directly instead of compiled to code: compiling them took most of the
 * first config load, which a booting machine waits for.
 */
class Checker {
  private readonly patterns = new Map<string, RegExp>();

  constructor(root: JSONSchema) {
    this.prepare(root);
  }

  private prepare(s: JSONSchema): void {
    for (const k of Object.keys(s)) if (!KEYWORDS.has(k)) throw new Error(`JSON schema keyword ${JSON.stringify(k)} is not supported`);
    if (typeof s.pattern === 'string' && !this.patterns.has(s.pattern)) this.patterns.set(s.pattern, new RegExp(s.pattern, 'u'));
    if (typeof s.format === 'string' && !formats[s.format]) throw new Error(`unknown format ${JSON.stringify(s.format)}`);
    for (const sub of (s.anyOf as JSONSchema[] | undefined) ?? []) this.prepare(sub);
    if (s.items) this.prepare(s.items as JSONSchema);
    for (const sub of Object.values((s.properties as Record<string, JSONSchema> | undefined) ?? {})) this.prepare(sub);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') this.prepare(s.additionalProperties as JSONSchema);
  }

  check(s: JSONSchema, v: unknown, path: string, errors: SchemaError[]): void {
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => hasType(t, v))) {
        // the keywords of other types do not apply; enum and anyOf still do
        errors.push({ instancePath: path, keyword: 'type', params: { type: s.type }, message: `must be ${types.join(',')}` });
      }
    }
    if (s.anyOf) {
      const branches: SchemaError[] = [];
      let matched = false;
      for (const sub of s.anyOf as JSONSchema[]) {
        const e: SchemaError[] = [];
        this.check(sub, v, path, e);
        if (e.length === 0) {
          matched = true;
          break;
        }
        branches.push(...e);
      }
      if (!matched) errors.push(...branches, { instancePath: path, keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' });
    }
    if (s.enum && !(s.enum as unknown[]).includes(v)) errors.push({ instancePath: path, keyword: 'enum', params: { allowedValues: s.enum }, message: 'must be equal to one of the allowed values' });
    if (typeof v === 'number') {
      if (typeof s.maximum === 'number' && !(v <= s.maximum)) errors.push({ instancePath: path, keyword: 'maximum', params: { comparison: '<=', limit: s.maximum }, message: `must be <= ${s.maximum}` });
      if (typeof s.minimum === 'number' && !(v >= s.minimum)) errors.push({ instancePath: path, keyword: 'minimum', params: { comparison: '>=', limit: s.minimum }, message: `must be >= ${s.minimum}` });
    }
    if (typeof v === 'string') {
      if (typeof s.pattern === 'string' && !this.patterns.get(s.pattern)!.test(v)) errors.push({ instancePath: path, keyword: 'pattern', params: { pattern: s.pattern }, message: `must match pattern "${s.pattern}"` });
      if (typeof s.format === 'string' && !formats[s.format]!(v)) errors.push({ instancePath: path, keyword: 'format', params: { format: s.format }, message: `must match format "${s.format}"` });
    }
    if (Array.isArray(v) && s.items) for (let i = 0; i < v.length; i++) this.check(s.items as JSONSchema, v[i], pointer(path, i), errors);
    if (hasType('object', v)) {
      const o = v as Record<string, unknown>;
      const props = s.properties as Record<string, JSONSchema> | undefined;
      const extra = s.additionalProperties as JSONSchema | boolean | undefined;
      for (const k of Object.keys(o)) {
        if (props && Object.hasOwn(props, k)) continue;
        if (extra === false) errors.push({ instancePath: path, keyword: 'additionalProperties', params: { additionalProperty: k }, message: 'must NOT have additional properties' });
        else if (extra && typeof extra === 'object') this.check(extra, o[k], pointer(path, k), errors);
      }
      if (props) for (const [k, sub] of Object.entries(props)) if (o[k] !== undefined) this.check(sub, o[k], pointer(path, k), errors);
    }
  }
}

const compiled = new Map<Schema, ValidateFunction>();

/** The validator of a document schema (made once). */
export function validatorFor(s: Schema): ValidateFunction {
  let v = compiled.get(s);
  if (!v) {
    const root = toJSONSchema(s);
    const checker = new Checker(root);
    const fn = ((data: unknown) => {
      const errors: SchemaError[] = [];
      checker.check(root, data, '', errors);
      fn.errors = errors.length ? errors : null;
      return errors.length === 0;
    }) as ValidateFunction;
    fn.errors = null;
    v = fn;
    compiled.set(s, v);
  }
  return v;
}

/** `/machine/ca/key` → `.machine.ca.key`, `/a/0` → `.a[0]` */
export function instancePathToDotted(p: string): string {
  if (p === '') return '.';
  return p
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join('');
}

/** A readable message for a schema error. */
export function schemaErrorMessage(e: SchemaError, data: unknown): string {
  const value = e.instancePath.split('/').slice(1).reduce<unknown>((acc, seg) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), data);
  const shown = typeof value === 'string' || typeof value === 'number' ? ` (got ${JSON.stringify(value)})` : '';
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}${shown}`;
    case 'format':
      return `is not a valid ${(e.params as { format: string }).format}${shown}`;
    case 'pattern':
      return `has an invalid format${shown}`;
    case 'additionalProperties':
      return `unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    default:
      return `${e.message ?? 'is invalid'}${shown}`;
  }
}
