/**
 * JSON Schema (draft-07) of every document kind, generated from the field descriptions, and ajv validators for
 * them. Decoding has already checked structure and types; the JSON schema adds the value constraints Talos's types
 * enforce while decoding (enumerations, ranges, addresses, prefixes, durations).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
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

let ajv: Ajv | undefined;

function instance(): Ajv {
  if (ajv) return ajv;
  // no optimization passes over the generated code: they took a third of the first config load (machined's boot waits
  // for it under emulation), and the validators check the same with or without them
  ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, code: { optimize: false } });
  // as Go's text unmarshalers (netip, url), an empty value is the zero value, not an error
  ajv.addFormat('ip', (v: string) => v === '' || isIP(v));
  ajv.addFormat('cidr', (v: string) => v === '' || isCIDR(v));
  ajv.addFormat('ipOrCidr', (v: string) => v === '' || isIPOrCIDR(v));
  ajv.addFormat('hostPort', (v: string) => v === '' || isAddrPort(v));
  ajv.addFormat('base64', (v: string) => /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v));
  ajv.addFormat('url', (v: string) => typeof parseGoURL(v) !== 'string');
  return ajv;
}

const compiled = new Map<Schema, ValidateFunction>();

/** A compiled validator of a document schema (compiled once). */
export function validatorFor(s: Schema): ValidateFunction {
  let v = compiled.get(s);
  if (!v) {
    v = instance().compile({ $schema: 'http://json-schema.org/draft-07/schema#', ...toJSONSchema(s) });
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

/** A readable message for an ajv error. */
export function ajvMessage(e: ErrorObject, data: unknown): string {
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
