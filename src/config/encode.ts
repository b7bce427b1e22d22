/**
 * Canonical encoding of config documents as talosctl writes them: keys in schema (Go struct) order, Go's omitempty
 * rules, map keys sorted, four-space indentation with go-yaml's layout of lists and of mappings inside lists, and
 * optionally a one-line description per field (`--with-docs`) and commented-out examples (`--with-examples`).
 */
import { parse as parseYAML } from 'yaml';
import { isPointer, type ObjSchema, type Schema } from './schema/dsl.js';

export interface EncodeOptions {
  /** describe each field in a comment */
  docs?: boolean;
  /** add commented-out examples of fields that are not set */
  examples?: boolean;
}

type ENode =
  | { t: 'scalar'; text: string; literal?: string }
  | { t: 'seq'; items: ENode[] }
  | { t: 'map'; entries: Entry[] };

interface Entry {
  key: string;
  value: ENode;
  doc?: string;
  /** commented lines after the entry (examples) */
  foot?: string[];
}

/** Whether a value is Go's zero for its schema (omitempty drops it). */
export function isEmptyValue(v: unknown, s: Schema | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (s && isPointer(s)) return false;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'boolean') return v === false;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    if (s?.k === 'obj') return Object.entries(v as Record<string, unknown>).every(([k, x]) => isEmptyValue(x, s.fields[k]));
    return Object.keys(v).length === 0;
  }
  return false;
}

/** go-yaml's map key order: byte order, with runs of digits compared as numbers. */
export function compareKeys(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i]!;
    const cb = b[j]!;
    if (/\d/.test(ca) && /\d/.test(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && /\d/.test(a[ei]!)) ei++;
      while (ej < b.length && /\d/.test(b[ej]!)) ej++;
      const na = Number(a.slice(i, ei));
      const nb = Number(b.slice(j, ej));
      if (na !== nb) return na < nb ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

const yaml11Special = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|~|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)$/;

/** Renders a string scalar as go-yaml does: plain when safe, double quotes when it would read as another type, single quotes otherwise. */
export function renderString(s: string): string {
  if (s === '') return '""';
  let plainOK = !yaml11Special.test(s);
  if (plainOK) {
    try {
      plainOK = parseYAML(s, { logLevel: 'error' }) === s;
    } catch {
      plainOK = false;
    }
  }
  if (plainOK && (/^[\s]|[\s]$/.test(s) || /^[-?:](\s|$)|^[,[\]{}#&*!|>'"%@`]/.test(s) || /: |\s#|:$/.test(s))) plainOK = false;
  if (plainOK) return s;
  const ambiguous = (() => {
    try {
      const v = parseYAML(s, { logLevel: 'error' });
      return typeof v !== 'string' || yaml11Special.test(s);
    } catch {
      return false;
    }
  })();
  // eslint-disable-next-line no-control-regex
  if (ambiguous || /[\x00-\x1f\x7f-\x9f]/.test(s) || /^\s|\s$/.test(s)) return JSON.stringify(s);
  return `'${s.replace(/'/g, "''")}'`;
}

function scalar(v: unknown): ENode {
  if (v === null || v === undefined) return { t: 'scalar', text: 'null' };
  if (typeof v === 'string') {
    // eslint-disable-next-line no-control-regex
    if (v.includes('\n') && !/[\x00-\x08\x0b-\x1f]/.test(v) && !/(^|\n)[ \t]+(\n|$)/.test(v) && !/^\s/.test(v)) {
      const trailing = /\n*$/.exec(v)![0].length;
      const indicator = trailing === 0 ? '|-' : trailing === 1 ? '|' : '|+';
      return { t: 'scalar', text: indicator, literal: trailing > 1 ? v.slice(0, v.length - trailing + 1) + '\n'.repeat(trailing - 1) : v.replace(/\n$/, '') };
    }
    return { t: 'scalar', text: renderString(v) };
  }
  if (typeof v === 'number') return { t: 'scalar', text: Number.isFinite(v) ? String(v) : v > 0 ? '.inf' : v < 0 ? '-.inf' : '.nan' };
  if (typeof v === 'boolean') return { t: 'scalar', text: v ? 'true' : 'false' };
  return { t: 'scalar', text: renderString(String(v)) };
}

/** A node for a value without schema (Unstructured): maps sorted, lists in order. */
function plainNode(v: unknown): ENode {
  if (Array.isArray(v)) return { t: 'seq', items: v.map(plainNode) };
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort(compareKeys);
    return { t: 'map', entries: keys.map((k) => ({ key: k, value: plainNode((v as Record<string, unknown>)[k]) })) };
  }
  return scalar(v);
}

function zeroOf(s: Schema): unknown {
  switch (s.k) {
    case 'str':
    case 'dur':
      return '';
    case 'int':
    case 'num':
    case 'size':
      return 0;
    case 'bool':
      return false;
    case 'list':
      return [];
    case 'map':
    case 'any':
      return {};
    case 'obj':
      return isPointer(s) ? null : {};
    case 'strOrList':
      return '';
  }
}

function exampleLines(key: string | undefined, value: unknown, doc: string | undefined, s: Schema): string[] {
  const body = key === undefined ? nodeOf(value, s, {}) : { t: 'map' as const, entries: [{ key, value: nodeOf(value, s, {}) }] };
  const text = renderTop(body).replace(/\n$/, '').split('\n');
  const out = doc ? [`# ${doc}`] : [];
  return [...out, ...text];
}

function nodeOf(v: unknown, s: Schema, opts: EncodeOptions): ENode {
  switch (s.k) {
    case 'obj':
      return objNode(v as Record<string, unknown>, s, opts);
    case 'list':
      return { t: 'seq', items: (v as unknown[]).map((x) => nodeOf(x, s.of, opts)) };
    case 'map': {
      const m = v as Record<string, unknown>;
      return { t: 'map', entries: Object.keys(m).sort(compareKeys).map((k) => ({ key: k, value: nodeOf(m[k], s.of, opts) })) };
    }
    case 'strOrList':
      return Array.isArray(v) ? { t: 'seq', items: v.map(scalar) } : scalar(v);
    case 'any':
      return plainNode(v);
    default:
      return scalar(v);
  }
}

function objNode(v: Record<string, unknown> | null, s: ObjSchema, opts: EncodeOptions): ENode {
  if (v === null) return { t: 'scalar', text: 'null' };
  const entries: Entry[] = [];
  const examples: string[] = [];
  for (const [key, field] of Object.entries(s.fields)) {
    let x = v[key];
    const omit = field.omit !== false;
    if (x === undefined || x === null) {
      if (omit) {
        if (opts.examples && field.examples?.length) {
          for (const ex of field.examples) examples.push('', ...exampleLines(key, ex.value, ex.doc ?? field.doc, field));
        }
        continue;
      }
      x = zeroOf(field);
    } else if (omit && isEmptyValue(x, field)) {
      continue;
    }
    const entry: Entry = { key, value: nodeOf(x, field, opts), doc: opts.docs ? field.doc : undefined };
    if (opts.examples && field.examples?.length && isEmptyValue(x, { ...field, ptr: false } as Schema)) {
      entry.foot = field.examples.flatMap((ex) => exampleLines(undefined, ex.value, ex.doc, field).map((l) => `#   ${l}`));
    }
    entries.push(entry);
  }
  for (const [key, x] of Object.entries(v)) {
    if (!Object.hasOwn(s.fields, key) && x !== undefined) entries.push({ key, value: plainNode(x) });
  }
  if (examples.length) {
    const last = entries[entries.length - 1];
    const lines = examples.slice(1).map((l) => (l === '' ? '' : `# ${l}`));
    if (last) last.foot = [...(last.foot ?? []), ...(last.foot?.length ? [''] : []), ...lines];
    else return { t: 'map', entries: [], ...({ orphanExamples: lines } as object) } as ENode;
  }
  return { t: 'map', entries };
}

function isEmptyCollection(n: ENode): boolean {
  return (n.t === 'map' && n.entries.length === 0) || (n.t === 'seq' && n.items.length === 0);
}

function inline(n: ENode): string {
  if (n.t === 'scalar') return n.text;
  return n.t === 'map' ? '{}' : '[]';
}

/**
 * Writes a mapping whose keys sit at column `col`; nested blocks start at `base + 4`. For a mapping inside a list
 * item, `col` is the dash column + 2 and `base` the dash column, as go-yaml lays it out.
 */
function writeMap(out: string[], n: Extract<ENode, { t: 'map' }>, col: number, base: number, firstPrefix?: string): void {
  const pad = ' '.repeat(col);
  n.entries.forEach((e, i) => {
    let lead = i === 0 && firstPrefix !== undefined ? firstPrefix : pad;
    const scalarish = e.value.t === 'scalar' || isEmptyCollection(e.value);
    if (e.doc && !scalarish) {
      if (lead === pad) out.push(`${pad}# ${e.doc}`);
      else {
        out.push(`${lead}# ${e.doc}`);
        lead = pad;
      }
    }
    const key = renderString(e.key);
    if (scalarish) {
      out.push(`${lead}${key}: ${inline(e.value)}${e.doc ? ` # ${e.doc}` : ''}`);
      if (e.value.t === 'scalar' && e.value.literal !== undefined) writeLiteral(out, e.value.literal, base + 4);
    } else {
      out.push(`${lead}${key}:`);
      writeBlock(out, e.value, base + 4);
    }
    if (e.foot?.length) {
      for (const l of e.foot) out.push(l === '' ? '' : `${pad}${l}`);
      if (i < n.entries.length - 1) out.push('');
    }
  });
}

function writeLiteral(out: string[], text: string, col: number): void {
  const pad = ' '.repeat(col);
  for (const line of text.split('\n')) out.push(line === '' ? '' : `${pad}${line}`);
}

function writeSeq(out: string[], n: Extract<ENode, { t: 'seq' }>, col: number): void {
  const pad = ' '.repeat(col);
  for (const item of n.items) {
    if (item.t === 'scalar' || isEmptyCollection(item)) {
      out.push(`${pad}- ${inline(item)}`);
      if (item.t === 'scalar' && item.literal !== undefined) writeLiteral(out, item.literal, col + 4);
    } else if (item.t === 'map') {
      writeMap(out, item, col + 2, col, `${pad}- `);
    } else {
      const inner: string[] = [];
      writeSeq(inner, item, col + 2);
      out.push(`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
    }
  }
}

function writeBlock(out: string[], n: ENode, col: number): void {
  if (n.t === 'map') writeMap(out, n, col, col);
  else if (n.t === 'seq') writeSeq(out, n, col);
  else out.push(`${' '.repeat(col)}${n.text}`);
}

function renderTop(n: ENode): string {
  const out: string[] = [];
  if (n.t === 'map' && n.entries.length === 0) {
    const orphan = (n as { orphanExamples?: string[] }).orphanExamples;
    return orphan ? `${orphan.join('\n')}\n` : '{}\n';
  }
  if (n.t === 'seq' && n.items.length === 0) return '[]\n';
  if (n.t === 'scalar') {
    out.push(n.text);
    if (n.literal !== undefined) writeLiteral(out, n.literal, 4);
  } else writeBlock(out, n, 0);
  return `${out.join('\n')}\n`;
}

/** Encodes one document (already in canonical order by schema) as talosctl writes it. */
export function encodeValue(value: Record<string, unknown>, schema: ObjSchema, opts: EncodeOptions = {}, headComment?: string): string {
  const text = renderTop(objNode(value, schema, opts));
  return headComment && opts.docs ? `# ${headComment}\n${text}` : text;
}

/** Canonical form of a value: schema order, omitempty applied; what a decode of the encoded text gives back. */
export function canonicalize(value: unknown, s: Schema): unknown {
  if (value === undefined || value === null) return value;
  switch (s.k) {
    case 'obj': {
      const v = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(s.fields)) {
        let x = v[key];
        if (x === undefined || x === null) {
          if (field.omit !== false) continue;
          x = zeroOf(field);
          if (x === null) continue;
        }
        if (field.omit !== false && isEmptyValue(x, field)) continue;
        out[key] = canonicalize(x, field);
      }
      return out;
    }
    case 'list':
      return (value as unknown[]).map((x) => canonicalize(x, s.of));
    case 'map': {
      const v = value as Record<string, unknown>;
      return Object.fromEntries(Object.keys(v).sort(compareKeys).map((k) => [k, canonicalize(v[k], s.of)]));
    }
    default:
      return value;
  }
}
