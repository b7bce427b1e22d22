import { StateError } from './errors.js';
import type { Kind, Pointer, Resource } from './resource.js';
import type { CoreState, ListOptions, NewResourceLike, StateEvent, WatchKindOptions, WatchOptions } from './state.js';

/** One allowed read: a type in a namespace, optionally a single ID. */
export interface AllowedRead {
  namespace: string;
  type: string;
  id?: string;
}

/**
 * A read-only view of a state limited to an allow-list of types (and IDs): what machined serves to apid and trustd.
 * Every write is refused.
 */
export class ReadOnlyFilter implements CoreState {
  constructor(
    private readonly inner: CoreState,
    private readonly allowed: readonly AllowedRead[],
  ) {}

  private check(kind: Kind, id?: string): void {
    const ok = this.allowed.some((a) => a.namespace === kind.namespace && a.type === kind.type && (a.id === undefined || a.id === id));
    if (!ok) throw new StateError('BRONZE_COSI_ACCESS_DENIED', `access to ${kind.namespace}/${kind.type}${id !== undefined ? `/${id}` : ''} is not allowed`);
  }

  async get(ptr: Pointer): Promise<Resource> {
    this.check(ptr, ptr.id);
    return this.inner.get(ptr);
  }

  async list(kind: Kind, opts?: ListOptions): Promise<Resource[]> {
    // a list is allowed when the whole type is; an ID-restricted entry allows only that resource
    const whole = this.allowed.some((a) => a.namespace === kind.namespace && a.type === kind.type && a.id === undefined);
    if (whole) return this.inner.list(kind, opts);
    const ids = this.allowed.filter((a) => a.namespace === kind.namespace && a.type === kind.type).map((a) => a.id);
    if (ids.length === 0) this.check(kind);
    return (await this.inner.list(kind, opts)).filter((r) => ids.includes(r.metadata.id));
  }

  async create(res: Resource | NewResourceLike): Promise<Resource> {
    throw new StateError('BRONZE_COSI_READ_ONLY', `write access is not allowed (create ${res.metadata.type})`);
  }

  async update(res: Resource): Promise<Resource> {
    throw new StateError('BRONZE_COSI_READ_ONLY', `write access is not allowed (update ${res.metadata.type})`);
  }

  async destroy(ptr: Pointer): Promise<void> {
    throw new StateError('BRONZE_COSI_READ_ONLY', `write access is not allowed (destroy ${ptr.type})`);
  }

  watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): AsyncIterable<StateEvent> {
    this.check(ptr, ptr.id);
    return this.inner.watch(ptr, opts, signal);
  }

  watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent> {
    this.checkKind(kind);
    return this.inner.watchKind(kind, opts, signal);
  }

  watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent[]> {
    this.checkKind(kind);
    return this.inner.watchKindAggregated(kind, opts, signal);
  }

  private checkKind(kind: Kind): void {
    const whole = this.allowed.some((a) => a.namespace === kind.namespace && a.type === kind.type && a.id === undefined);
    if (!whole) this.check(kind);
  }
}
