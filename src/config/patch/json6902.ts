/**
 * RFC 6902 JSON patches, applied as Talos applies them: only to a single-document config, on the JSON form of its
 * YAML, and the result loaded (and strictly decoded) again.
 */
import { ConfigError } from '../errors.js';

export interface JSONPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export interface JSONPatch {
  readonly type: 'json6902';
  operations: JSONPatchOperation[];
}

const ops = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Checks the shape of each operation; an error names the operation by its index. */
export function parseOperations(raw: unknown, what = 'JSON patch'): JSONPatchOperation[] {
  if (!Array.isArray(raw)) throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: expected a list of operations`);
  return raw.map((op, i) => {
    if (!op || typeof op !== 'object' || Array.isArray(op)) throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: operation ${i} is not an object`);
    const o = op as Record<string, unknown>;
    if (typeof o.op !== 'string' || !ops.has(o.op)) throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: operation ${i}: unexpected op ${JSON.stringify(o.op)}`);
    if (typeof o.path !== 'string') throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: operation ${i}: missing path`);
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: operation ${i}: missing from`);
    if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !Object.hasOwn(o, 'value')) throw new ConfigError('BRONZE_CONFIG_PATCH', `${what}: operation ${i}: missing value`);
    return { op: o.op as JSONPatchOperation['op'], path: o.path, value: o.value, from: o.from as string | undefined };
  });
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new ConfigError('BRONZE_CONFIG_PATCH', `invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function fail(op: string, message: string, path: string): never {
  throw new ConfigError('BRONZE_CONFIG_PATCH', `failure applying rfc6902 patches to talos machine config: ${op} operation does not apply: ${message}: ${JSON.stringify(path)}`);
}

function parentOf(doc: unknown, path: string, op: string): { parent: Container; key: string } {
  const t = tokens(path);
  if (t.length === 0) fail(op, 'doc is missing path', path);
  let cur: unknown = doc;
  for (const k of t.slice(0, -1)) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(k) || Number(k) >= cur.length) fail(op, 'doc is missing path', path);
      cur = cur[Number(k)];
    } else if (cur && typeof cur === 'object') {
      if (!Object.hasOwn(cur, k)) fail(op, 'doc is missing path', path);
      cur = (cur as Record<string, unknown>)[k];
    } else fail(op, 'doc is missing path', path);
  }
  if (!cur || typeof cur !== 'object') fail(op, 'doc is missing path', path);
  return { parent: cur as Container, key: t[t.length - 1]! };
}

function getAt(doc: unknown, path: string, op: string): unknown {
  let cur = doc;
  for (const k of tokens(path)) {
    if (Array.isArray(cur) && /^\d+$/.test(k) && Number(k) < cur.length) cur = cur[Number(k)];
    else if (cur && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, k)) cur = (cur as Record<string, unknown>)[k];
    else fail(op, 'doc is missing key', path);
  }
  return cur;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function add(doc: unknown, path: string, value: unknown, op = 'add'): unknown {
  if (path === '') return value;
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (!(idx >= 0 && idx <= parent.length)) fail(op, 'index out of range', path);
    parent.splice(idx, 0, value);
  } else parent[key] = value;
  return doc;
}

function remove(doc: unknown, path: string, op = 'remove'): unknown {
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) {
    const idx = /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (!(idx >= 0 && idx < parent.length)) fail(op, 'index out of range', path);
    parent.splice(idx, 1);
  } else {
    if (!Object.hasOwn(parent, key)) fail(op, 'doc is missing key', path);
    delete parent[key];
  }
  return doc;
}

/** Applies the operations to a JSON value (a deep copy is patched and returned). */
export function applyOperations(input: unknown, operations: JSONPatchOperation[]): unknown {
  let doc = structuredClone(input);
  for (const o of operations) {
    switch (o.op) {
      case 'add':
        doc = add(doc, o.path, structuredClone(o.value));
        break;
      case 'remove':
        doc = remove(doc, o.path);
        break;
      case 'replace':
        getAt(doc, o.path, 'replace');
        if (o.path === '') doc = structuredClone(o.value);
        else doc = add(remove(doc, o.path, 'replace'), o.path, structuredClone(o.value), 'replace');
        break;
      case 'move': {
        const v = getAt(doc, o.from!, 'move');
        doc = add(remove(doc, o.from!, 'move'), o.path, v, 'move');
        break;
      }
      case 'copy':
        doc = add(doc, o.path, structuredClone(getAt(doc, o.from!, 'copy')), 'copy');
        break;
      case 'test':
        if (canonical(getAt(doc, o.path, 'test')) !== canonical(o.value)) throw new ConfigError('BRONZE_CONFIG_PATCH', `failure applying rfc6902 patches to talos machine config: testing value ${o.path} failed: test failed`);
        break;
    }
  }
  return doc;
}
