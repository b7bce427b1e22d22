import { StateError } from './errors.js';
import type { IDQuery, LabelQuery } from './labels.js';
import { cloneResource, type Kind, type Metadata, newResource, type Phase, type Pointer, type Resource, sameContent } from './resource.js';

export type EventType = 'created' | 'updated' | 'destroyed' | 'bootstrapped' | 'errored' | 'noop';

/**
 * A change seen by a watcher. `resource` and `old` are the store's own snapshots: read-only (frozen); copy them
 * with cloneResource before changing anything.
 */
export interface StateEvent {
  type: EventType;
  resource?: Readonly<Resource>;
  old?: Readonly<Resource>;
  error?: string;
  /** where this event sits in the history: hand it back in `startFromBookmark` to resume after it */
  bookmark?: Uint8Array;
}

export interface ListOptions {
  labelQuery?: LabelQuery[];
  idQuery?: IDQuery;
}

export interface WatchOptions {
  /** replay up to this many past events of the resource first */
  tailEvents?: number;
  startFromBookmark?: Uint8Array;
}

export interface WatchKindOptions extends ListOptions {
  /** first a `created` event for every existing resource, then `bootstrapped` */
  bootstrapContents?: boolean;
  /** with bootstrapContents: the bootstrapped event carries a bookmark */
  bootstrapBookmark?: boolean;
  tailEvents?: number;
  startFromBookmark?: Uint8Array;
}

export interface OwnerOptions {
  owner?: string;
}

export interface UpdateOptions extends OwnerOptions {
  /** the phase the resource must be in (default `running`); `any` skips the check */
  expectedPhase?: Phase | 'any';
}

/** The minimal contract every state backend implements (in memory, filtered, remote over gRPC). */
export interface CoreState {
  get(ptr: Pointer): Promise<Resource>;
  list(kind: Kind, opts?: ListOptions): Promise<Resource[]>;
  /** stores a new resource: version 1, phase running, `created`/`updated` now, owner from the options */
  create(res: Resource | NewResourceLike, opts?: OwnerOptions): Promise<Resource>;
  /** replaces a resource: `res.metadata.version` must be the current version; the store bumps it */
  update(res: Resource, opts?: UpdateOptions): Promise<Resource>;
  destroy(ptr: Pointer, opts?: OwnerOptions): Promise<void>;
  watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): AsyncIterable<StateEvent>;
  watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent>;
  /** like watchKind, but delivers whatever has happened since the last batch at once */
  watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent[]>;
}

export type NewResourceLike = { metadata: Pointer & Partial<Omit<Metadata, keyof Pointer>>; spec: unknown };

/** The helpers every backend gets from its core: teardown, finalizers, modify, waiting for a condition. */
export class State implements CoreState {
  constructor(readonly core: CoreState) {}

  get(ptr: Pointer): Promise<Resource> {
    return this.core.get(ptr);
  }

  list(kind: Kind, opts?: ListOptions): Promise<Resource[]> {
    return this.core.list(kind, opts);
  }

  create(res: Resource | NewResourceLike, opts?: OwnerOptions): Promise<Resource> {
    return this.core.create(res, opts);
  }

  update(res: Resource, opts?: UpdateOptions): Promise<Resource> {
    return this.core.update(res, opts);
  }

  destroy(ptr: Pointer, opts?: OwnerOptions): Promise<void> {
    return this.core.destroy(ptr, opts);
  }

  watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): AsyncIterable<StateEvent> {
    return this.core.watch(ptr, opts, signal);
  }

  watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent> {
    return this.core.watchKind(kind, opts, signal);
  }

  watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): AsyncIterable<StateEvent[]> {
    return this.core.watchKindAggregated(kind, opts, signal);
  }

  /** Reads, changes and writes a resource, retrying on version conflicts. */
  async updateWithConflicts(ptr: Pointer, fn: (r: Resource) => void, opts: UpdateOptions = {}): Promise<Resource> {
    for (;;) {
      const cur = await this.get(ptr);
      fn(cur);
      try {
        return await this.update(cur, opts);
      } catch (e) {
        if (e instanceof StateError && e.code === 'BRONZE_COSI_CONFLICT') continue;
        throw e;
      }
    }
  }

  /**
   * Moves a resource to the tearingDown phase. Returns true when it is ready to be destroyed (no finalizers left).
   */
  async teardown(ptr: Pointer, opts: OwnerOptions = {}): Promise<boolean> {
    // the store checks the owner on update
    const r = await this.updateWithConflicts(ptr, (cur) => (cur.metadata.phase = 'tearingDown'), { owner: opts.owner, expectedPhase: 'any' });
    return r.metadata.finalizers.length === 0;
  }

  /** Adds finalizers (any caller may; they block destruction until removed). */
  async addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    for (;;) {
      const cur = await this.get(ptr);
      const missing = finalizers.filter((f) => !cur.metadata.finalizers.includes(f));
      if (missing.length === 0) return;
      cur.metadata.finalizers.push(...missing);
      try {
        await this.update(cur, { owner: cur.metadata.owner, expectedPhase: 'any' });
        return;
      } catch (e) {
        if (e instanceof StateError && e.code === 'BRONZE_COSI_CONFLICT') continue;
        throw e;
      }
    }
  }

  async removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    for (;;) {
      const cur = await this.get(ptr);
      if (!finalizers.some((f) => cur.metadata.finalizers.includes(f))) return;
      cur.metadata.finalizers = cur.metadata.finalizers.filter((f) => !finalizers.includes(f));
      try {
        await this.update(cur, { owner: cur.metadata.owner, expectedPhase: 'any' });
        return;
      } catch (e) {
        if (e instanceof StateError && e.code === 'BRONZE_COSI_CONFLICT') continue;
        throw e;
      }
    }
  }

  /**
   * Gets or creates a resource and applies `fn`; writes only when something changed. Returns the stored resource.
   */
  async modify<S>(ptr: Pointer, emptySpec: () => S, fn: (r: Resource<S>) => void, opts: UpdateOptions = {}): Promise<Resource<S>> {
    for (;;) {
      let cur: Resource<S> | undefined;
      try {
        cur = (await this.get(ptr)) as Resource<S>;
      } catch (e) {
        if (!(e instanceof StateError && e.code === 'BRONZE_COSI_NOT_FOUND')) throw e;
      }
      if (!cur) {
        const fresh = newResource(ptr, emptySpec());
        fn(fresh);
        try {
          return (await this.create(fresh, opts)) as Resource<S>;
        } catch (e) {
          if (e instanceof StateError && e.code === 'BRONZE_COSI_ALREADY_EXISTS') continue;
          throw e;
        }
      }
      const before = cloneResource(cur);
      fn(cur);
      if (sameContent(before, cur)) return cur;
      try {
        return (await this.update(cur, opts)) as Resource<S>;
      } catch (e) {
        if (e instanceof StateError && e.code === 'BRONZE_COSI_CONFLICT') continue;
        throw e;
      }
    }
  }

  /** Tears a resource down and destroys it once its finalizers are gone. */
  async teardownAndDestroy(ptr: Pointer, opts: OwnerOptions = {}, signal?: AbortSignal): Promise<void> {
    if (!(await this.teardown(ptr, opts))) {
      await this.watchFor(ptr, (r) => r === undefined || r.metadata.finalizers.length === 0, signal);
    }
    await this.destroy(ptr, opts);
  }

  /** Waits until the resource satisfies `pred` (undefined = it does not exist); resolves with it. */
  async watchFor(ptr: Pointer, pred: (r: Readonly<Resource> | undefined) => boolean, signal?: AbortSignal): Promise<Readonly<Resource> | undefined> {
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const ev of this.watch(ptr, {}, ac.signal)) {
        if (ev.type === 'errored') throw new StateError('BRONZE_COSI_INVALID', ev.error ?? 'watch failed');
        const r = ev.type === 'destroyed' ? undefined : ev.resource;
        if (pred(r)) return r;
      }
      throw signal?.reason ?? new StateError('BRONZE_COSI_INVALID', 'watch ended');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      ac.abort();
    }
  }
}
