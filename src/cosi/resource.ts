/** The phases of a resource's life: running, then tearing down before it is destroyed. */
export type Phase = 'running' | 'tearingDown';

/** Identifies a resource: namespace, type and ID. */
export interface Pointer {
  namespace: string;
  type: string;
  id: string;
}

/** Identifies a kind of resources: every resource of a type in a namespace. */
export interface Kind {
  namespace: string;
  type: string;
}

export interface Metadata extends Pointer {
  /** 1 on create, +1 on every change; 0 means undefined (tombstones, resources not stored yet) */
  version: number;
  /** the controller that wrote it, empty for resources written directly */
  owner: string;
  phase: Phase;
  created: Date;
  updated: Date;
  finalizers: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Resource<S = unknown> {
  metadata: Metadata;
  spec: S;
}

/** A resource as a writer hands it over: the store fills version, phase and times. */
export interface NewResource<S = unknown> {
  metadata: Pointer & Partial<Omit<Metadata, keyof Pointer>>;
  spec: S;
}

/** A pointer as COSI prints it in messages: `Type(namespace/id)`. */
export const pointerString = (p: Pointer) => `${p.type}(${p.namespace}/${p.id})`;

/** A key for maps of pointers. */
export const pointerKey = (p: Pointer) => `${p.namespace}\u0000${p.type}\u0000${p.id}`;

/** A key for maps of kinds. */
export const kindKey = (k: Kind) => `${k.namespace}\u0000${k.type}`;

type Builtin = Date | Uint8Array | string | number | boolean | bigint | undefined | null;

/** A value that may not be changed at any depth (what watchers receive: the store's own snapshots). */
export type DeepReadonly<T> = unknown extends T ? T : T extends Builtin ? T : T extends (infer U)[] ? readonly DeepReadonly<U>[] : { readonly [K in keyof T]: DeepReadonly<T[K]> };

export type ReadonlyResource<S = unknown> = DeepReadonly<Resource<S>>;

/** A resource value for creation, with empty metadata fields filled. */
export function newResource<S>(ptr: Pointer, spec: S, meta: Partial<Omit<Metadata, keyof Pointer>> = {}): Resource<S> {
  const now = new Date(0);
  return {
    metadata: {
      namespace: ptr.namespace,
      type: ptr.type,
      id: ptr.id,
      version: meta.version ?? 0,
      owner: meta.owner ?? '',
      phase: meta.phase ?? 'running',
      created: meta.created ?? now,
      updated: meta.updated ?? now,
      finalizers: meta.finalizers ?? [],
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
    },
    spec,
  };
}

/** A deep copy: resources handed out by the store may be changed by the caller without effect on the store. */
export function cloneResource<S>(r: Resource<S> | DeepReadonly<Resource<S>>): Resource<S> {
  const m = r.metadata;
  return {
    metadata: {
      namespace: m.namespace,
      type: m.type,
      id: m.id,
      version: m.version,
      owner: m.owner,
      phase: m.phase,
      created: new Date(m.created.getTime()),
      updated: new Date(m.updated.getTime()),
      finalizers: [...m.finalizers],
      labels: { ...m.labels },
      annotations: { ...m.annotations },
    },
    spec: cloneValue(r.spec) as S,
  };
}

/** Deep copy of plain data (objects, arrays, dates, byte arrays); much faster than structuredClone for small specs. */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v instanceof Uint8Array) return v.slice() as T;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = cloneValue((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Deep equality of plain data, for "did the spec change" checks. */
export function equalValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => equalValue(x, (b as unknown[])[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => equalValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Same finalizers, in any order (finalizers are a set). */
function sameFinalizers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length < 2) return a[0] === b[0];
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((f, i) => f === y[i]);
}

/**
 * Whether two resources are equal in everything a writer controls (spec, labels, annotations, finalizers, phase,
 * owner, version): a change that leaves this true is not written.
 */
export function sameContent(a: DeepReadonly<Resource>, b: DeepReadonly<Resource>): boolean {
  return (
    a.metadata.version === b.metadata.version &&
    a.metadata.owner === b.metadata.owner &&
    a.metadata.phase === b.metadata.phase &&
    equalValue(a.metadata.labels, b.metadata.labels) &&
    equalValue(a.metadata.annotations, b.metadata.annotations) &&
    sameFinalizers(a.metadata.finalizers, b.metadata.finalizers) &&
    equalValue(a.spec, b.spec)
  );
}

/**
 * What a watcher of a missing resource, or a bootstrapped marker, carries: the pointer and nothing else, stamped with
 * the moment it was made (as COSI's tombstones are).
 */
export function tombstone(ptr: Pointer): Resource<undefined> {
  const now = new Date();
  return {
    metadata: { namespace: ptr.namespace, type: ptr.type, id: ptr.id, version: 0, owner: '', phase: 'running', created: now, updated: now, finalizers: [], labels: {}, annotations: {} },
    spec: undefined,
  };
}
