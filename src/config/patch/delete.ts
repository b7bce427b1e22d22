/**
 * `$patch: delete` in strategic merge patches: the markers are taken out of the patch YAML and become selectors,
 * applied to the config before the rest of the patch is merged (Talos's order).
 */
import { type Document, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { findScalar, scalarText } from '../decode.js';
import { ConfigError } from '../errors.js';
import { type ConfigDocument, V1ALPHA1 } from '../document.js';

/** A delete marker of a patch: what to remove from which document. */
export interface DeleteSelector {
  readonly type: 'delete';
  apiVersion: string;
  kind: string;
  name?: string;
  /** key path; list items appear as `[i]` */
  path: string[];
  /** for list items: the first other key of the item and its value, which select the item to delete */
  key: string;
  value: string;
  /** index of the patch document the marker came from */
  docIndex: number;
}

export function selectorMatchKey(s: DeleteSelector): string {
  return `${s.apiVersion}/${s.kind}${s.name !== undefined ? `/${s.name}` : ''}`;
}

function describe(s: DeleteSelector): string {
  return s.path.join('.');
}

function isDeleteMarker(k: unknown, v: unknown): boolean {
  return isScalar(k) && scalarText(k) === '$patch' && isScalar(v) && v.value === 'delete';
}

function makeSelector(path: string[], root: YAMLMap, docIndex: number, key: string, value: string): DeleteSelector {
  const apiVersion = findScalar(root, 'apiVersion');
  let kind = findScalar(root, 'kind');
  if (path.length === 0 && (apiVersion === '') !== (kind === '')) {
    throw new ConfigError('BRONZE_CONFIG_PATCH', `missing ${apiVersion === '' ? 'apiVersion' : 'kind'} in document for which $patch: delete is used`);
  }
  if (kind === '' && apiVersion === '') kind = V1ALPHA1;
  else if (kind === '' || apiVersion === '') throw new ConfigError('BRONZE_CONFIG_PATCH', `kind and apiVersion must be both set for path ${path.join('.')}`);
  const name = findScalar(root, 'name');
  return { type: 'delete', apiVersion, kind, name: name === '' ? undefined : name, path: [...path], key, value, docIndex };
}

/**
 * Takes the `$patch: delete` markers out of a parsed patch document. Returns the selectors and whether what is left
 * of the document is empty (then it is not merged).
 */
export function extractDeletes(doc: Document, docIndex: number): { selectors: DeleteSelector[]; empty: boolean } {
  const root = doc.contents;
  const selectors: DeleteSelector[] = [];
  if (!isMap(root)) return { selectors, empty: false };

  const visit = (node: unknown, parentIsSeq: boolean, path: string[]): boolean => {
    if (isMap(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const p = node.items[i]!;
        if (isDeleteMarker(p.key, p.value)) {
          if (parentIsSeq) {
            const other = node.items.find((q) => !isDeleteMarker(q.key, q.value));
            if (!other || !isScalar(other.key)) throw new ConfigError('BRONZE_CONFIG_PATCH', `no key:val found in sequence node for path ${path.join('.')}`);
            const v = other.value as Node | null;
            selectors.push(makeSelector(path, root, docIndex, scalarText(other.key), isScalar(v) ? scalarText(v) : ''));
          } else {
            const inner = path.find((seg) => seg.startsWith('['));
            if (inner) throw new ConfigError('BRONZE_CONFIG_PATCH', `cannot delete an inner key in '${path.join('.')}'`);
            selectors.push(makeSelector(path, root, docIndex, '', ''));
          }
          return true;
        }
        const key = isScalar(p.key) ? scalarText(p.key) : '';
        if (visit(p.value, false, [...path, key])) {
          node.items.splice(i, 1);
          i--;
          if (node.items.length === 0) return true;
        }
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        if (visit(node.items[i], true, [...path, `[${i}]`])) {
          node.items.splice(i, 1);
          i--;
          if (node.items.length === 0) return true;
        }
      }
    }
    return false;
  };

  const rootDeleted = visit(root, false, []);
  if (rootDeleted) return { selectors, empty: true };
  const onlyIdentity = root.items.every((p) => isScalar(p.key) && isScalar(p.value) && ['version', 'kind', 'name'].includes(scalarText(p.key)));
  return { selectors, empty: onlyIdentity };
}

class LookupFailed extends Error {}

function deleteAt(target: unknown, path: string[], key: string, value: string): void {
  if (target === null || typeof target !== 'object') throw new LookupFailed();
  const [head, ...rest] = path;
  if (Array.isArray(target)) {
    if (rest.length !== 0) throw new ConfigError('BRONZE_CONFIG_PATCH', 'searching for complex paths in slices is not supported');
    if (!head?.startsWith('[')) throw new ConfigError('BRONZE_CONFIG_PATCH', 'searching for non-integer keys in slices is not supported');
    const idx = target.findIndex((item) => item && typeof item === 'object' && !Array.isArray(item) && Object.hasOwn(item, key) && stringOf((item as Record<string, unknown>)[key]) === value);
    if (idx < 0) throw new LookupFailed();
    target.splice(idx, 1);
    return;
  }
  const obj = target as Record<string, unknown>;
  if (head === undefined || !Object.hasOwn(obj, head)) throw new LookupFailed();
  if (rest.length === 0) {
    delete obj[head];
    return;
  }
  deleteAt(obj[head], rest, key, value);
}

function stringOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Applies a delete selector to a document; returns false when the whole document is to be removed. */
export function applyDelete(s: DeleteSelector, doc: ConfigDocument): boolean {
  const where = `patch delete: path '${describe(s)}' in document '${doc.apiVersion}/${doc.kind}'`;
  if (s.name !== undefined && doc.name !== s.name) throw new ConfigError('BRONZE_CONFIG_PATCH', `${where}: name mismatch, expected ${s.name}, got ${doc.name ?? ''}`);
  if (s.path.length === 0) {
    if (doc.isV1Alpha1) throw new ConfigError('BRONZE_CONFIG_PATCH', `${where}: can't delete the root of the legacy document`);
    return false;
  }
  const value = structuredClone(doc.value);
  try {
    deleteAt(value, s.path, s.key, s.value);
  } catch (e) {
    if (e instanceof LookupFailed) throw new ConfigError('BRONZE_CONFIG_PATCH', `${where}: failed to delete path '${describe(s)}': lookup failed`, [{ document: doc.id, path: `.${describe(s)}`, message: 'nothing to delete there' }]);
    throw e;
  }
  doc.setValue(value);
  return true;
}
