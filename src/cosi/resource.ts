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
  /** 1 on create, +1 on every change */
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

export const pointerString = (p: Pointer) => `${p.namespace}/${p.type}/${p.id}`;

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
export function cloneResource<S>(r: Resource<S>): Resource<S> {
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
    spec: cloneValue(r.spec),
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

/** Whether two resources differ in anything a writer controls (spec, labels, annotations, finalizers, phase, owner). */
export function sameContent(a: Resource, b: Resource): boolean {
  return (
    a.metadata.owner === b.metadata.owner &&
    a.metadata.phase === b.metadata.phase &&
    equalValue(a.metadata.labels, b.metadata.labels) &&
    equalValue(a.metadata.annotations, b.metadata.annotations) &&
    equalValue(a.metadata.finalizers, b.metadata.finalizers) &&
    equalValue(a.spec, b.spec)
  );
}
