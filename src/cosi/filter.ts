import { CosiError } from './errors.js';
import type { Kind, Pointer, Resource } from './resource.js';
import type { CoreState, ListOptions, NewResourceLike, OwnerOptions, StateEvent, UpdateOptions, Watch, WatchKindOptions, WatchOptions } from './state.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'destroy';

/** One call as a filter sees it; `id` is empty for calls on a whole kind (list, kind watches). */
export interface Access {
  verb: Verb;
  namespace: string;
  type: string;
  id: string;
}

export const isReadOnly = (verb: Verb) => verb === 'get' || verb === 'list' || verb === 'watch';

/** Decides on one call: returns to allow it, throws (a CosiError with an access code, say) to refuse it. */
export type AccessRule = (access: Access) => void | Promise<void>;

/** A state seen through an access rule, checked before every call (COSI's state.Filter). */
export class FilteredState implements CoreState {
  constructor(
    private readonly inner: CoreState,
    private readonly rule: AccessRule,
  ) {}

  async get(ptr: Pointer): Promise<Resource> {
    await this.rule({ verb: 'get', namespace: ptr.namespace, type: ptr.type, id: ptr.id });
    return this.inner.get(ptr);
  }

  async list(kind: Kind, opts?: ListOptions): Promise<Resource[]> {
    await this.rule({ verb: 'list', namespace: kind.namespace, type: kind.type, id: '' });
    return this.inner.list(kind, opts);
  }

  async create(res: Resource | NewResourceLike, opts?: OwnerOptions): Promise<Resource> {
    const m = res.metadata;
    await this.rule({ verb: 'create', namespace: m.namespace, type: m.type, id: m.id });
    return this.inner.create(res, opts);
  }

  async update(res: Resource, opts?: UpdateOptions): Promise<Resource> {
    const m = res.metadata;
    await this.rule({ verb: 'update', namespace: m.namespace, type: m.type, id: m.id });
    return this.inner.update(res, opts);
  }

  async destroy(ptr: Pointer, opts?: OwnerOptions): Promise<void> {
    await this.rule({ verb: 'destroy', namespace: ptr.namespace, type: ptr.type, id: ptr.id });
    return this.inner.destroy(ptr, opts);
  }

  async watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    await this.rule({ verb: 'watch', namespace: ptr.namespace, type: ptr.type, id: ptr.id });
    return this.inner.watch(ptr, opts, signal);
  }

  async watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    await this.rule({ verb: 'watch', namespace: kind.namespace, type: kind.type, id: '' });
    return this.inner.watchKind(kind, opts, signal);
  }

  async watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent[]>> {
    await this.rule({ verb: 'watch', namespace: kind.namespace, type: kind.type, id: '' });
    return this.inner.watchKindAggregated(kind, opts, signal);
  }
}

/** One allowed read: a whole type in a namespace, or (with `id`) one resource of it. */
export interface AllowedRead {
  namespace: string;
  type: string;
  /** only this resource: gets and watches of it, but no lists or kind watches of the type */
  id?: string;
}

/**
 * The rule of the views machined gives apid and trustd: reads of the listed types (or single resources) only, and
 * no writes at all.
 */
export function readOnlyAllowList(allowed: readonly AllowedRead[]): AccessRule {
  return (a) => {
    const what = `${a.type}(${a.namespace}${a.id ? `/${a.id}` : ''})`;
    if (!isReadOnly(a.verb)) throw new CosiError('BRONZE_COSI_ACCESS_DENIED', `write access denied: ${a.verb} ${what}`);
    const ok = allowed.some((x) => x.namespace === a.namespace && x.type === a.type && (x.id === undefined || x.id === a.id));
    if (!ok) throw new CosiError('BRONZE_COSI_ACCESS_DENIED', `access denied: ${a.verb} ${what}`);
  };
}

/** A read-only view of a state limited to an allow-list: what machined serves to apid and trustd. */
export function readOnlyView(inner: CoreState, allowed: readonly AllowedRead[]): FilteredState {
  return new FilteredState(inner, readOnlyAllowList(allowed));
}
