import { CosiError, isNotFound, isAlreadyExists, isVersionConflict } from './errors.js';
import type { IDQuery, LabelQuery } from './labels.js';
import { cloneResource, type Kind, type Metadata, newResource, type Phase, type Pointer, type ReadonlyResource, type Resource, sameContent } from './resource.js';

export type EventType = 'created' | 'updated' | 'destroyed' | 'bootstrapped' | 'errored' | 'noop';

/**
 * A change seen by a watcher. `created`, `updated` (with `old`) and `destroyed` carry the resource; `bootstrapped`
 * and `noop` carry a tombstone of the kind (ID empty) and a bookmark; `errored` carries `error` and ends the watch.
 * Resources in events are the store's own snapshots, shared by every watcher: never change them (copy with
 * cloneResource first).
 */
export interface StateEvent {
  type: EventType;
  resource?: ReadonlyResource;
  old?: ReadonlyResource;
  error?: string;
  /** where this event sits in the history: hand it back in `startFromBookmark` to resume after it */
  bookmark?: Uint8Array;
}

export interface ListOptions {
  /** the resource must match any one of these queries */
  labelQuery?: LabelQuery[];
  idQuery?: IDQuery;
}

export interface WatchOptions {
  /** start with up to this many past events of the resource (instead of its current state) */
  tailEvents?: number;
  /** start after this event (instead of with the current state) */
  startFromBookmark?: Uint8Array;
}

export interface WatchKindOptions extends ListOptions {
  /** start with a `created` event for every existing resource (sorted by ID), then `bootstrapped` */
  bootstrapContents?: boolean;
  /** start with a `noop` event carrying a bookmark of the current position (after the bootstrap contents) */
  bootstrapBookmark?: boolean;
  /** start with up to this many past events (cannot be combined with bootstrapContents) */
  tailEvents?: number;
  /** start after this event (cannot be combined with bootstrapContents or tailEvents) */
  startFromBookmark?: Uint8Array;
}

export interface OwnerOptions {
  /** the writer: resources record it on create; update and destroy by anyone else are refused */
  owner?: string;
}

export interface UpdateOptions extends OwnerOptions {
  /** the phase the stored resource must be in (default `running`); `any` skips the check */
  expectedPhase?: Phase | 'any';
}

/**
 * A watch in progress: iterate it with `for await`; it ends when closed, when its signal aborts, or after an
 * `errored` event.
 */
export interface Watch<T> extends AsyncIterableIterator<T, undefined> {
  close(): void;
}

export type NewResourceLike = { metadata: Pointer & Partial<Omit<Metadata, keyof Pointer>>; spec: unknown };

/**
 * The contract every state backend implements (in memory, filtered, remote over gRPC). Writes check owners,
 * versions and phases; reads hand out copies. A watch call resolves once the watch is in place (every later change
 * reaches it) and rejects on bad options or bookmarks.
 */
export interface CoreState {
  get(ptr: Pointer): Promise<Resource>;
  list(kind: Kind, opts?: ListOptions): Promise<Resource[]>;
  /** stores a new resource: version 1, phase running, `created`/`updated` now, owner from the options */
  create(res: Resource | NewResourceLike, opts?: OwnerOptions): Promise<Resource>;
  /** replaces a resource: `res.metadata.version` must be the current version; the store bumps it */
  update(res: Resource, opts?: UpdateOptions): Promise<Resource>;
  /** removes a resource that has no finalizers */
  destroy(ptr: Pointer, opts?: OwnerOptions): Promise<void>;
  /** the resource's current state (`created`, or `destroyed` with a tombstone when missing), then its changes */
  watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): Promise<Watch<StateEvent>>;
  /** the changes of every resource of a kind */
  watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent>>;
  /** like watchKind, but each step delivers every event that has happened since the last one, as one batch */
  watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent[]>>;
}

/**
 * Changes a resource in place; the change is written only if something differs. What it returns is ignored, but a
 * promise is awaited first.
 */
export type Updater<S = unknown> = (r: Resource<S>) => unknown;

/** The helpers every backend gets from its core: conflict retries, teardown, finalizers, modify, waiting. */
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

  watch(ptr: Pointer, opts?: WatchOptions, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    return this.core.watch(ptr, opts, signal);
  }

  watchKind(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    return this.core.watchKind(kind, opts, signal);
  }

  watchKindAggregated(kind: Kind, opts?: WatchKindOptions, signal?: AbortSignal): Promise<Watch<StateEvent[]>> {
    return this.core.watchKindAggregated(kind, opts, signal);
  }

  /**
   * Reads a resource, applies `fn` to a copy and writes it, reading again after a version conflict. The phase is
   * checked before `fn` runs (default `running`). Nothing is written when `fn` changes nothing.
   */
  async updateWithConflicts<S = unknown>(ptr: Pointer, fn: Updater<S>, opts: UpdateOptions = {}): Promise<Resource<S>> {
    const expected = opts.expectedPhase ?? 'running';
    for (;;) {
      const cur = (await this.get(ptr)) as Resource<S>;
      if (expected !== 'any' && cur.metadata.phase !== expected) {
        throw new CosiError('BRONZE_COSI_PHASE_CONFLICT', `resource ${ptr.type}(${ptr.namespace}/${ptr.id}@${cur.metadata.version}) is not in phase ${expected}`);
      }
      const next = cloneResource(cur);
      await fn(next);
      if (sameContent(cur, next)) return next;
      try {
        return (await this.update(next, opts)) as Resource<S>;
      } catch (e) {
        if (isVersionConflict(e)) continue;
        throw e;
      }
    }
  }

  /**
   * Moves a resource to the tearingDown phase (a no-op when it is there already). Returns true when it has no
   * finalizers, i.e. it may be destroyed now.
   */
  async teardown(ptr: Pointer, opts: OwnerOptions = {}): Promise<boolean> {
    let r = await this.get(ptr);
    if (r.metadata.phase !== 'tearingDown') {
      r = await this.updateWithConflicts(ptr, (cur) => void (cur.metadata.phase = 'tearingDown'), { owner: opts.owner });
    }
    return r.metadata.finalizers.length === 0;
  }

  /** Adds finalizers; any writer may, whatever the owner and phase. */
  async addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    const cur = await this.get(ptr);
    await this.updateWithConflicts(
      ptr,
      (r) => {
        for (const f of finalizers) if (!r.metadata.finalizers.includes(f)) r.metadata.finalizers.push(f);
      },
      { owner: cur.metadata.owner, expectedPhase: 'any' },
    );
  }

  /** Removes finalizers; any writer may, whatever the owner and phase. */
  async removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    const cur = await this.get(ptr);
    await this.updateWithConflicts(
      ptr,
      (r) => {
        r.metadata.finalizers = r.metadata.finalizers.filter((f) => !finalizers.includes(f));
      },
      { owner: cur.metadata.owner, expectedPhase: 'any' },
    );
  }

  /**
   * Gets or creates a resource and applies `fn`; writes only when something changed. Returns the resource as
   * stored. An existing resource must be in the expected phase (default `running`).
   */
  async modify<S>(ptr: Pointer, emptySpec: () => S, fn: Updater<S>, opts: UpdateOptions = {}): Promise<Resource<S>> {
    for (;;) {
      try {
        return await this.updateWithConflicts<S>(ptr, fn, opts);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const fresh = newResource(ptr, emptySpec());
      await fn(fresh);
      try {
        return (await this.create(fresh, { owner: opts.owner })) as Resource<S>;
      } catch (e) {
        // created meanwhile by someone else: modify that one
        if (!isAlreadyExists(e)) throw e;
      }
    }
  }

  /** Tears a resource down, waits until its finalizers are gone, and destroys it. */
  async teardownAndDestroy(ptr: Pointer, opts: OwnerOptions = {}, signal?: AbortSignal): Promise<void> {
    if (!(await this.teardown(ptr, opts))) {
      await this.watchFor(ptr, (r) => r === undefined || r.metadata.finalizers.length === 0, signal);
    }
    await this.destroy(ptr, opts);
  }

  /** Waits until the resource satisfies `pred` (undefined: it does not exist); resolves with it. */
  async watchFor(ptr: Pointer, pred: (r: ReadonlyResource | undefined) => boolean, signal?: AbortSignal): Promise<ReadonlyResource | undefined> {
    const w = await this.watch(ptr, {}, signal);
    try {
      for await (const ev of w) {
        if (ev.type === 'errored') throw new CosiError('BRONZE_COSI_WATCH_FAILED', `watching ${ptr.type}(${ptr.namespace}/${ptr.id}): ${ev.error ?? 'watch failed'}`);
        const r = ev.type === 'destroyed' ? undefined : ev.resource;
        if (ev.type !== 'bootstrapped' && ev.type !== 'noop' && pred(r)) return r;
      }
      throw signal?.reason ?? new CosiError('BRONZE_COSI_WATCH_FAILED', `watching ${ptr.type}(${ptr.namespace}/${ptr.id}): the watch ended`);
    } finally {
      w.close();
    }
  }

  /**
   * A signal that aborts when the resource starts tearing down or is destroyed (or `signal` aborts); it is aborted
   * already when the resource does not exist. COSI's ContextWithTeardown.
   */
  async teardownSignal(ptr: Pointer, signal?: AbortSignal): Promise<AbortSignal> {
    const ac = new AbortController();
    const w = await this.watch(ptr, {}, signal);
    const first = await w.next();
    const gone = (ev: StateEvent) => ev.type === 'destroyed' || ev.type === 'errored' || ev.resource?.metadata.phase === 'tearingDown';
    if (first.done || gone(first.value)) {
      w.close();
      ac.abort(new CosiError('BRONZE_COSI_NOT_FOUND', `resource ${ptr.type}(${ptr.namespace}/${ptr.id}) is torn down or missing`));
      return ac.signal;
    }
    void (async () => {
      try {
        for await (const ev of w) if (gone(ev)) break;
      } catch {
        // a broken watch ends the signal's life as well
      } finally {
        w.close();
        ac.abort(new CosiError('BRONZE_COSI_NOT_FOUND', `resource ${ptr.type}(${ptr.namespace}/${ptr.id}) is being torn down`));
      }
    })();
    return ac.signal;
  }
}
