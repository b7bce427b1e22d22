/**
 * Strategic merge patches, with Talos's rules: documents are matched by apiVersion/kind[/name] and deep-merged;
 * unmatched patch documents are added; scalars are replaced unless the patch gives Go's zero value for a non-pointer
 * field; lists are appended, except those merged by a key (network interfaces, VLANs, admission plugins) and those
 * replaced (pod and service subnets, audit policy); maps merge per key; `extraArgs` replaces per argument.
 */
import { ConfigDocument, MachineConfig } from '../document.js';
import { ConfigError } from '../errors.js';
import { isPointer, type Schema } from '../schema/dsl.js';
import { applyDelete, type DeleteSelector, selectorMatchKey } from './delete.js';

/** A loaded strategic merge patch: its documents and delete selectors, in order. */
export interface StrategicPatch {
  readonly type: 'strategic';
  entries: (ConfigDocument | DeleteSelector)[];
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v;
}

function isZeroScalar(v: unknown): boolean {
  return v === '' || v === 0 || v === undefined || v === null;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** Merges Unstructured values as Go merges map[string]any: same types required, maps deep, lists appended. */
function mergeUnstructured(left: unknown, right: unknown, path: string): unknown {
  if (right === undefined || right === null) return left;
  if (left === undefined || left === null) return structuredClone(right);
  if (typeName(left) !== typeName(right)) throw new ConfigError('BRONZE_CONFIG_PATCH', `merge type mismatch at ${path}: ${typeName(left)} and ${typeName(right)}`);
  if (Array.isArray(left)) return [...left, ...structuredClone(right as unknown[])];
  if (typeof left === 'object') {
    const out = { ...(left as Record<string, unknown>) };
    for (const [k, v] of Object.entries(right as Record<string, unknown>)) out[k] = mergeUnstructured(out[k], v, `${path}.${k}`);
    return out;
  }
  if (typeof right !== 'boolean' && isZeroScalar(right)) return left;
  return right;
}

/**
 * Whether an existing list item is the one a patch item refers to: the first of the keys the patch item sets decides;
 * with a single key, unset compares as Go's zero value (VLAN 0, plugin without a name); with several keys and none
 * set, nothing matches (the item is appended).
 */
function sameItem(existing: unknown, item: unknown, by: readonly string[]): boolean {
  if (!existing || typeof existing !== 'object' || !item || typeof item !== 'object') return false;
  const x = existing as Record<string, unknown>;
  const y = item as Record<string, unknown>;
  for (const k of by) {
    if (y[k] === undefined || y[k] === '') continue;
    return deepEqual(x[k], y[k]);
  }
  if (by.length !== 1) return false;
  const k = by[0]!;
  const zero = (v: unknown) => (v === undefined ? (k === 'vlanId' ? 0 : '') : v);
  return deepEqual(zero(x[k]), zero(y[k]));
}

/** Merges a patch value into a config value for a field; returns the new value (inputs are not modified). */
export function mergeValue(left: unknown, right: unknown, s: Schema, path: string, pointer = isPointer(s)): unknown {
  if (right === undefined || right === null) return left;
  switch (s.k) {
    case 'obj': {
      if (s.merge === 'replace') return structuredClone(right);
      if (left === undefined || left === null) return structuredClone(right);
      const out = { ...(left as Record<string, unknown>) };
      for (const [k, rv] of Object.entries(right as Record<string, unknown>)) {
        const f = s.fields[k];
        out[k] = f ? mergeValue(out[k], rv, f, `${path}.${k}`) : structuredClone(rv);
        if (out[k] === undefined) delete out[k];
      }
      return out;
    }
    case 'list': {
      const r = right as unknown[];
      if (r.length === 0) return left ?? [];
      if (s.merge === 'replace' || left === undefined) return structuredClone(r);
      const l = [...(left as unknown[])];
      if (s.merge && typeof s.merge === 'object') {
        const { by, replaceItem } = s.merge;
        for (const item of r) {
          const idx = l.findIndex((x) => sameItem(x, item, by));
          if (idx >= 0) l[idx] = replaceItem ? structuredClone(item) : mergeValue(l[idx], item, s.of, `${path}[${idx}]`);
          else l.push(structuredClone(item));
        }
        return l;
      }
      return [...l, ...structuredClone(r)];
    }
    case 'map': {
      const r = right as Record<string, unknown>;
      if (Object.keys(r).length === 0) return left ?? {};
      const out = { ...((left as Record<string, unknown> | undefined) ?? {}) };
      for (const [k, rv] of Object.entries(r)) {
        if (s.merge === 'replace' || out[k] === undefined || out[k] === null) out[k] = structuredClone(rv);
        else out[k] = mergeValue(out[k], rv, s.of, `${path}[${JSON.stringify(k)}]`, false);
      }
      return out;
    }
    case 'any':
      if (s.merge === 'replace') return Object.keys((right as object) ?? {}).length === 0 ? left : structuredClone(right);
      return mergeUnstructured(left, right, path);
    case 'bool':
      return right;
    case 'strOrList':
      return structuredClone(right);
    default:
      if (!pointer && isZeroScalar(right)) return left;
      return right;
  }
}

/** Applies a strategic merge patch to a config; returns a new config (the input is not modified). */
export function applyStrategic(cfg: MachineConfig, patch: StrategicPatch): MachineConfig {
  let docs = cfg.documents.map((d) => d.clone());
  for (const entry of patch.entries) {
    if (!(entry instanceof ConfigDocument)) {
      const key = selectorMatchKey(entry);
      const idx = docs.findIndex((d) => d.matchKey === key || (entry.name === undefined && d.apiVersion === entry.apiVersion && d.kind === entry.kind && !d.named));
      if (idx < 0) {
        // a delete of a document the config does not have: nothing to delete
        if (entry.path.length === 0) continue;
        throw new ConfigError('BRONZE_CONFIG_PATCH', `patch delete: path '${entry.path.join('.')}' in document '${entry.apiVersion}/${entry.kind}': document not found`);
      }
      if (!applyDelete(entry, docs[idx]!)) docs = docs.filter((_, i) => i !== idx);
      continue;
    }
    const idx = docs.findIndex((d) => d.matchKey === entry.matchKey);
    if (idx < 0) {
      docs.push(entry.clone());
      continue;
    }
    const left = docs[idx]!;
    left.setValue(mergeValue(left.value, entry.value, left.schema, '') as Record<string, unknown>);
  }
  return new MachineConfig(docs);
}

