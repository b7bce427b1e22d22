/**
 * Strict decoding of a YAML document against a schema, with Go yaml.v3's scalar rules as Talos sees them: a
 * string field takes any scalar as written (`1.10` stays "1.10"), a bool takes true/false and YAML 1.1 yes/no/on/off,
 * an int takes Go integer literals (`0o644`, `0644`, `0x1f`). Unknown keys and wrong types are collected as issues,
 * each with its path and line.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { ConfigIssue } from './errors.js';
import type { Schema } from './schema/dsl.js';

/** Upper bound of nodes visited through aliases, against alias bombs. */
const ALIAS_BUDGET = 100_000;

export interface DecodeContext {
  document: string;
  doc: Document;
  lineCounter?: LineCounter;
  issues: ConfigIssue[];
  budget: number;
}

export function newDecodeContext(document: string, doc: Document, lineCounter?: LineCounter): DecodeContext {
  return { document, doc, lineCounter, issues: [], budget: ALIAS_BUDGET };
}

/** `.a.b[0]["x.y"]` style path segments. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

export function lineOf(ctx: { lineCounter?: LineCounter }, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range || !ctx.lineCounter) return undefined;
  return ctx.lineCounter.linePos(range[0]).line;
}

function issue(ctx: DecodeContext, path: string, node: unknown, message: string): undefined {
  ctx.issues.push({ document: ctx.document, path: path || '.', line: lineOf(ctx, node), message });
  return undefined;
}

function deref(ctx: DecodeContext, node: unknown, path: string): unknown {
  let n = node;
  let hops = 0;
  while (isAlias(n)) {
    if (--ctx.budget <= 0 || ++hops > 64) return issue(ctx, path, node, 'too many alias expansions');
    n = n.resolve(ctx.doc);
    if (n === undefined) return issue(ctx, path, node, `unresolved alias *${(node as { source: string }).source}`);
  }
  return n;
}

function kindName(n: unknown): string {
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported node';
}

/** The text of a scalar as Go sees it for a string target: plain scalars keep their source (`1.10`, `0644`). */
export function scalarText(s: Scalar): string {
  if (typeof s.value === 'string') return s.value;
  if (typeof s.value === 'symbol') return s.source ?? String(s.value.description);
  if (s.type === 'PLAIN' && typeof s.source === 'string') return s.source;
  return String(s.value);
}

const yamlBools: Record<string, boolean> = {
  true: true, True: true, TRUE: true, false: false, False: false, FALSE: false,
  yes: true, Yes: true, YES: true, no: false, No: false, NO: false,
  on: true, On: true, ON: true, off: false, Off: false, OFF: false,
  y: true, Y: true, n: false, N: false,
};

/** Parses a Go integer literal (base prefixes, leading-zero octal, underscores between digits). */
export function parseGoInt(text: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text.trim());
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  let body = m[2]!;
  if (/__|_$/.test(body)) return undefined;
  let base = 10;
  if (/^0[xX]/.test(body)) [base, body] = [16, body.slice(2)];
  else if (/^0[oO]/.test(body)) [base, body] = [8, body.slice(2)];
  else if (/^0[bB]/.test(body)) [base, body] = [2, body.slice(2)];
  else if (body.length > 1 && body.startsWith('0')) [base, body] = [8, body.slice(1)];
  body = body.replace(/^_/, '').replace(/_/g, '');
  if (body === '') return base === 8 ? 0 : undefined;
  const v = Number.parseInt(body, base);
  return Number.isSafeInteger(v) ? sign * v : undefined;
}

// the micro sign (U+00B5) and the Greek mu (U+03BC), both of which Go takes, written as escapes: a character past
// Latin-1 in the code makes V8 hold the whole image bundle's source two bytes a character
const durationRE = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/;

/** Parses a Go duration string into milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!durationRE.test(text)) return undefined;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const sign = text.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]!]!;
  return sign * total;
}

/** A duration as Go prints it, rounded to seconds: `1h2m3s`, `4m0s`, `5s`. */
export function goDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Converts any YAML node to plain JS (aliases resolved within the budget; map keys as strings). */
export function toPlain(ctx: DecodeContext, node: unknown, path: string): unknown {
  const n = deref(ctx, node, path);
  if (n === undefined) return undefined;
  if (--ctx.budget <= 0) return issue(ctx, path, node, 'document too large (node budget exhausted)');
  if (isScalar(n)) return n.value;
  if (isSeq(n)) return n.items.map((it, i) => toPlain(ctx, it, joinPath(path, i)));
  if (isMap(n)) {
    const out: Record<string, unknown> = {};
    for (const pair of mapPairs(ctx, n, path)) {
      const key = keyText(ctx, pair.key, path);
      if (key === undefined) continue;
      out[key] = toPlain(ctx, pair.value, joinPath(path, key));
    }
    return out;
  }
  return issue(ctx, path, node, `unsupported YAML node (${kindName(n)})`);
}

function keyText(ctx: DecodeContext, key: unknown, path: string): string | undefined {
  const k = deref(ctx, key, path);
  if (isScalar(k)) return k.value === null ? '' : scalarText(k);
  return issue(ctx, path, key, 'mapping keys must be scalars');
}

/** The pairs of a mapping with `<<` merge keys expanded (explicit keys win over merged ones). */
function mapPairs(ctx: DecodeContext, m: YAMLMap, path: string): Pair[] {
  const own: Pair[] = [];
  const merged: Pair[] = [];
  for (const p of m.items) {
    if (!isPair(p)) continue;
    const k = isScalar(p.key) ? p.key : undefined;
    if (k && (k.value === '<<' || (typeof k.value === 'symbol' && k.source === '<<')) && k.type === 'PLAIN') {
      const sources = deref(ctx, p.value, path);
      const list = isSeq(sources) ? sources.items.map((s) => deref(ctx, s, path)) : [sources];
      for (const src of list) {
        if (isMap(src)) merged.push(...mapPairs(ctx, src, path));
        else if (src !== undefined) issue(ctx, path, p.value, 'merge key << needs a mapping or a list of mappings');
      }
      continue;
    }
    own.push(p as Pair);
  }
  if (!merged.length) return own;
  const seen = new Set(own.map((p) => (isScalar(p.key) ? scalarText(p.key) : '')));
  const extra: Pair[] = [];
  for (const p of merged) {
    const k = isScalar(p.key) ? scalarText(p.key) : '';
    if (!seen.has(k)) {
      seen.add(k);
      extra.push(p);
    }
  }
  return [...own, ...extra];
}

function isNullNode(n: unknown): boolean {
  return n === null || n === undefined || (isScalar(n) && n.value === null);
}

/**
 * Decodes a node against a schema. Returns undefined for null or absent values (Go leaves the field unset) and for
 * values with issues (the issues are recorded in the context).
 */
export function decodeNode(ctx: DecodeContext, node: unknown, schema: Schema, path: string): unknown {
  const n = deref(ctx, node, path);
  if (isNullNode(n)) return undefined;
  switch (schema.k) {
    case 'str': {
      if (!isScalar(n)) return issue(ctx, path, n, `expected a string, got ${kindName(n)}`);
      return scalarText(n);
    }
    case 'bool': {
      if (!isScalar(n)) return issue(ctx, path, n, `expected a boolean, got ${kindName(n)}`);
      if (typeof n.value === 'boolean') return n.value;
      if (n.type === 'PLAIN' && typeof n.value === 'string' && n.value in yamlBools) return yamlBools[n.value];
      return issue(ctx, path, n, `expected a boolean (true or false), got ${kindName(n)}`);
    }
    case 'int': {
      if (!isScalar(n)) return issue(ctx, path, n, `expected an integer, got ${kindName(n)}`);
      let v: number | undefined;
      if (n.type === 'PLAIN') v = parseGoInt(scalarText(n)) ?? (typeof n.value === 'number' && Number.isInteger(n.value) ? n.value : undefined);
      if (v === undefined) return issue(ctx, path, n, `expected an integer, got ${kindName(n)}`);
      return v;
    }
    case 'num': {
      if (!isScalar(n) || typeof n.value !== 'number') return issue(ctx, path, n, `expected a number, got ${kindName(n)}`);
      return n.value;
    }
    case 'dur': {
      if (!isScalar(n)) return issue(ctx, path, n, `expected a duration such as 30s or 1h0m0s, got ${kindName(n)}`);
      const text = scalarText(n);
      if (parseGoDuration(text) === undefined) return issue(ctx, path, n, `invalid duration ${JSON.stringify(text)} (examples: 30s, 5m, 1h30m)`);
      return text;
    }
    case 'size': {
      if (!isScalar(n)) return issue(ctx, path, n, `expected a size (bytes or a string such as 10GB), got ${kindName(n)}`);
      if (n.type === 'PLAIN') {
        const v = parseGoInt(scalarText(n));
        if (v !== undefined) return v;
      }
      return scalarText(n);
    }
    case 'strOrList': {
      if (isScalar(n)) return scalarText(n);
      if (isSeq(n)) {
        const out: string[] = [];
        n.items.forEach((it, i) => {
          const v = decodeNode(ctx, it, { k: 'str' }, joinPath(path, i));
          if (typeof v === 'string') out.push(v);
        });
        return out;
      }
      return issue(ctx, path, n, `expected a string or a list of strings, got ${kindName(n)}`);
    }
    case 'any': {
      const v = toPlain(ctx, n, path);
      if (schema.object && (typeof v !== 'object' || v === null || Array.isArray(v))) return issue(ctx, path, n, `expected a mapping, got ${kindName(n)}`);
      return v;
    }
    case 'list': {
      if (!isSeq(n)) return issue(ctx, path, n, `expected a list, got ${kindName(n)}`);
      const out: unknown[] = [];
      n.items.forEach((it, i) => {
        const v = decodeNode(ctx, it, schema.of, joinPath(path, i));
        // Go keeps null items of pointer lists as nil; dropping them keeps the list well-typed
        if (v !== undefined) out.push(v);
      });
      return out;
    }
    case 'map': {
      if (!isMap(n)) return issue(ctx, path, n, `expected a mapping, got ${kindName(n)}`);
      const out: Record<string, unknown> = {};
      for (const pair of mapPairs(ctx, n, path)) {
        const key = keyText(ctx, pair.key, path);
        if (key === undefined) continue;
        const v = decodeNode(ctx, pair.value, schema.of, joinPath(path, key));
        if (v !== undefined) out[key] = v;
        else if (isNullNode(deref(ctx, pair.value, path)) && schema.of.k === 'str') out[key] = '';
      }
      return out;
    }
    case 'obj': {
      if (!isMap(n)) return issue(ctx, path, n, `expected a mapping, got ${kindName(n)}`);
      const out: Record<string, unknown> = {};
      for (const pair of mapPairs(ctx, n, path)) {
        const key = keyText(ctx, pair.key, path);
        if (key === undefined) continue;
        const field = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
        if (!field) {
          issue(ctx, joinPath(path, key), pair.key, 'unknown key');
          continue;
        }
        const v = decodeNode(ctx, pair.value, field, joinPath(path, key));
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
  }
}

/** The value of a top-level scalar key of a mapping node (kind, apiVersion, name), as Talos's findValue. */
export function findScalar(m: YAMLMap, key: string): string {
  for (const p of m.items) {
    if (isScalar(p.key) && scalarText(p.key) === key) {
      const v = p.value as Node | null;
      return isScalar(v) && v.value !== null ? scalarText(v) : '';
    }
  }
  return '';
}
