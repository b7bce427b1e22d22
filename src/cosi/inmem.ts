import { randomBytes } from 'node:crypto';
import { StateError } from './errors.js';
import { matchesID, matchesLabels } from './labels.js';
import { cloneResource, cloneValue, type Kind, type Pointer, pointerString, type Resource } from './resource.js';
import type { CoreState, ListOptions, NewResourceLike, OwnerOptions, StateEvent, UpdateOptions, WatchKindOptions, WatchOptions } from './state.js';

/** An event as the history keeps it: the stored snapshots and its position. */
interface Stored {
  type: 'created' | 'updated' | 'destroyed';
  resource: Resource;
  old?: Resource;
  pos: number;
  /** the event as unfiltered watchers see it, built once and shared (read-only) */
  event?: StateEvent;
}

export interface InMemoryOptions {
  /** events kept per resource type for tail_events, bookmarks and slow watchers (default 1024) */
  historyCapacity?: number;
  /** the clock, for tests */
  now?: () => Date;
}


/** One (namespace, type): the resources and a bounded ring of past events. */
class Collection {
  readonly items = new Map<string, Resource>();
  readonly ring: Stored[] = [];
  writePos = 0;
  readonly watchers = new Set<Watcher>();

  constructor(readonly capacity: number) {}

  private notifying = false;

  private readonly notifyAll = () => {
    this.notifying = false;
    for (const w of this.watchers) if (w.batchReader) w.wake();
  };

  publish(type: Stored['type'], resource: Resource, old?: Resource): void {
    const ev: Stored = { type, resource, old, pos: this.writePos };
    if (this.ring.length < this.capacity) this.ring.push(ev);
    else this.ring[this.writePos % this.capacity] = ev;
    this.writePos++;
    // a watcher reading event by event gets each event at once; a batch reader is woken once per turn of the event
    // loop, after the writers of this turn, so a burst of writes reaches it as one batch
    let batchReaders = false;
    for (const w of this.watchers) {
      if (w.batchReader) batchReaders = true;
      else w.wake();
    }
    if (batchReaders && !this.notifying) {
      this.notifying = true;
      setImmediate(this.notifyAll);
    }
  }

  /** The event at a position, or undefined when it has left the ring. */
  at(pos: number): Stored | undefined {
    if (pos < 0 || pos >= this.writePos || this.writePos - pos > this.capacity) return undefined;
    return this.ring[pos % this.capacity];
  }

  /** The lowest position still held. */
  get oldest(): number {
    return Math.max(0, this.writePos - this.capacity);
  }
}

type Filter = (ev: Stored) => StateEvent | undefined;

/** An event shared by every watcher of a change; its bookmark is built on first use. */
class SharedEvent implements StateEvent {
  readonly type: Stored['type'];
  readonly resource: Resource;
  readonly old: Resource | undefined;
  private mark: Uint8Array | undefined;

  constructor(
    private readonly st: Stored,
    private readonly store: InMemoryState,
  ) {
    this.type = st.type;
    this.resource = st.resource;
    this.old = st.old;
  }

  get bookmark(): Uint8Array {
    this.mark ??= this.store.bookmark(this.st.pos);
    return this.mark;
  }
}

/** One abort listener per signal for all its watchers: thousands of watchers may share a signal. */
const signalWatchers = new WeakMap<AbortSignal, Set<Watcher>>();

function onAbort(signal: AbortSignal, w: Watcher): void {
  let set = signalWatchers.get(signal);
  if (!set) {
    const watchers = new Set<Watcher>();
    set = watchers;
    signalWatchers.set(signal, set);
    signal.addEventListener('abort', () => watchers.forEach((x) => x.abort()), { once: true });
  }
  set.add(w);
}

/**
 * One watcher's cursor into its collection's history. Writers never wait for it: it reads at its own pace, and when
 * it falls further behind than the history holds it gets one `errored` event and ends.
 */
class Watcher implements AsyncIterableIterator<StateEvent> {
  private readonly initial: StateEvent[];
  private initialPos = 0;
  /** a next() or nextBatch() call waiting for events */
  private pending: ((r: IteratorResult<StateEvent>) => void) | undefined;
  private pendingBatch: ((r: IteratorResult<StateEvent[]>) => void) | undefined;
  private done = false;
  /** read with nextBatch(): woken once per turn of the event loop */
  batchReader = false;

  constructor(
    private readonly coll: Collection,
    private cursor: number,
    private readonly filter: Filter,
    initial: StateEvent[],
    private readonly signal?: AbortSignal,
  ) {
    this.initial = initial;
    coll.watchers.add(this);
    if (signal) {
      if (signal.aborted) this.close();
      else onAbort(signal, this);
    }
  }

  abort(): void {
    this.close();
  }

  /** New events may be there: a waiting reader gets them now (no extra turn through an async function). */
  wake(): void {
    if (this.pending) {
      const r = this.poll();
      if (r) {
        const p = this.pending;
        this.pending = undefined;
        p(r);
      }
    } else if (this.pendingBatch) {
      const r = this.pollBatch();
      if (r) {
        const p = this.pendingBatch;
        this.pendingBatch = undefined;
        p(r);
      }
    }
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.coll.watchers.delete(this);
    if (this.signal) signalWatchers.get(this.signal)?.delete(this);
    const p = this.pending;
    const pb = this.pendingBatch;
    this.pending = undefined;
    this.pendingBatch = undefined;
    p?.({ done: true, value: undefined });
    pb?.({ done: true, value: undefined });
  }

  private overrun(): StateEvent {
    this.close();
    return { type: 'errored', error: 'buffer overrun: the watcher fell too far behind, list again' };
  }

  /** The next event if one is there, `done` when closed, undefined when the reader must wait. */
  private poll(): IteratorResult<StateEvent> | undefined {
    if (this.initialPos < this.initial.length) return { done: false, value: this.initial[this.initialPos++]! };
    if (this.done) return { done: true, value: undefined };
    while (this.cursor < this.coll.writePos) {
      const st = this.coll.at(this.cursor);
      if (!st) return { done: false, value: this.overrun() };
      this.cursor++;
      const ev = this.filter(st);
      if (ev) return { done: false, value: ev };
    }
    return undefined;
  }

  private pollBatch(): IteratorResult<StateEvent[]> | undefined {
    if (this.done && this.initialPos >= this.initial.length) return { done: true, value: undefined };
    const batch: StateEvent[] = [];
    while (this.initialPos < this.initial.length) batch.push(this.initial[this.initialPos++]!);
    while (!this.done && this.cursor < this.coll.writePos) {
      const st = this.coll.at(this.cursor);
      if (!st) {
        batch.push(this.overrun());
        break;
      }
      this.cursor++;
      const ev = this.filter(st);
      if (ev) batch.push(ev);
    }
    return batch.length > 0 ? { done: false, value: batch } : undefined;
  }

  next(): Promise<IteratorResult<StateEvent>> {
    const r = this.poll();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => (this.pending = resolve));
  }

  /** Everything available (waiting when nothing is), as one batch. */
  nextBatch(): Promise<IteratorResult<StateEvent[]>> {
    this.batchReader = true;
    const r = this.pollBatch();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => (this.pendingBatch = resolve));
  }

  async return(): Promise<IteratorResult<StateEvent>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StateEvent> {
    return this;
  }
}

/** The in-memory resource store: every resource type in its own collection with its own event history. */
export class InMemoryState implements CoreState {
  private readonly collections = new Map<string, Map<string, Collection>>();
  private readonly capacity: number;
  private readonly now: () => Date;
  /** bookmarks carry this, so a bookmark from another store (or an earlier run) is refused */
  private readonly cookie = randomBytes(8);

  constructor(opts: InMemoryOptions = {}) {
    this.capacity = opts.historyCapacity ?? 1024;
    this.now = opts.now ?? (() => new Date());
  }

  private coll(kind: Kind): Collection {
    let byType = this.collections.get(kind.namespace);
    if (!byType) {
      byType = new Map();
      this.collections.set(kind.namespace, byType);
    }
    let c = byType.get(kind.type);
    if (!c) {
      c = new Collection(this.capacity);
      byType.set(kind.type, c);
    }
    return c;
  }

  /** The shared event of a stored change, with its bookmark. */
  private eventOf(st: Stored): StateEvent {
    st.event ??= new SharedEvent(st, this);
    return st.event;
  }

  bookmark(pos: number): Uint8Array {
    const b = Buffer.alloc(16);
    this.cookie.copy(b, 0);
    b.writeBigUInt64BE(BigInt(pos), 8);
    return b;
  }

  /** The position after the bookmarked event, or an error when the bookmark is not this store's or has expired. */
  private resumeFrom(c: Collection, bookmark: Uint8Array): number {
    const b = Buffer.from(bookmark);
    if (b.length !== 16 || !b.subarray(0, 8).equals(this.cookie)) throw new StateError('BRONZE_COSI_INVALID_BOOKMARK', 'invalid bookmark: it is not from this store');
    const pos = Number(b.readBigUInt64BE(8));
    if (pos >= c.writePos || pos + 1 < c.oldest) throw new StateError('BRONZE_COSI_INVALID_BOOKMARK', 'invalid bookmark: the event is no longer in the history');
    return pos + 1;
  }

  async get(ptr: Pointer): Promise<Resource> {
    const r = this.coll(ptr).items.get(ptr.id);
    if (!r) throw new StateError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(ptr)} doesn't exist`);
    return cloneResource(r);
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<Resource[]> {
    const c = this.coll(kind);
    const out: Resource[] = [];
    for (const r of c.items.values()) {
      if (matchesID(r.metadata.id, opts.idQuery) && matchesLabels(r.metadata.labels, opts.labelQuery)) out.push(cloneResource(r));
    }
    return out.sort((a, b) => (a.metadata.id < b.metadata.id ? -1 : a.metadata.id > b.metadata.id ? 1 : 0));
  }

  async create(res: Resource | NewResourceLike, opts: OwnerOptions = {}): Promise<Resource> {
    const m = res.metadata;
    if (!m.id || !m.type || !m.namespace) throw new StateError('BRONZE_COSI_INVALID', `resource ${pointerString(m)} needs a namespace, a type and an ID`);
    const c = this.coll(m);
    if (c.items.has(m.id)) throw new StateError('BRONZE_COSI_ALREADY_EXISTS', `resource ${pointerString(m)} already exists`);
    const now = this.now();
    const stored: Resource = {
      metadata: {
        namespace: m.namespace,
        type: m.type,
        id: m.id,
        version: 1,
        owner: opts.owner ?? '',
        phase: 'running',
        created: now,
        updated: now,
        finalizers: [...(m.finalizers ?? [])],
        labels: { ...(m.labels ?? {}) },
        annotations: { ...(m.annotations ?? {}) },
      },
      spec: cloneValue(res.spec),
    };
    c.items.set(m.id, stored);
    c.publish('created', stored);
    return cloneResource(stored);
  }

  async update(res: Resource, opts: UpdateOptions = {}): Promise<Resource> {
    const m = res.metadata;
    const c = this.coll(m);
    const cur = c.items.get(m.id);
    if (!cur) throw new StateError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(m)} doesn't exist`);
    if (m.version !== cur.metadata.version) {
      throw new StateError('BRONZE_COSI_CONFLICT', `resource ${pointerString(m)} update conflict: expected version ${m.version}, current version ${cur.metadata.version}`);
    }
    if ((opts.owner ?? '') !== cur.metadata.owner) {
      throw new StateError('BRONZE_COSI_OWNER_CONFLICT', `resource ${pointerString(m)} is owned by "${cur.metadata.owner}", not "${opts.owner ?? ''}"`);
    }
    const expected = opts.expectedPhase ?? 'running';
    if (expected !== 'any' && cur.metadata.phase !== expected) {
      throw new StateError('BRONZE_COSI_PHASE_CONFLICT', `resource ${pointerString(m)} is in phase ${cur.metadata.phase}, expected ${expected}`);
    }
    if (m.phase !== 'running' && m.phase !== 'tearingDown') throw new StateError('BRONZE_COSI_INVALID', `resource ${pointerString(m)}: invalid phase "${String(m.phase)}"`);
    const stored: Resource = {
      metadata: {
        namespace: m.namespace,
        type: m.type,
        id: m.id,
        version: cur.metadata.version + 1,
        owner: cur.metadata.owner,
        phase: m.phase,
        created: cur.metadata.created,
        updated: this.now(),
        finalizers: [...m.finalizers],
        labels: { ...m.labels },
        annotations: { ...m.annotations },
      },
      spec: cloneValue(res.spec),
    };
    c.items.set(m.id, stored);
    c.publish('updated', stored, cur);
    // the store keeps its own deep copy, so the caller's spec object can go back to the caller as is
    const sm = stored.metadata;
    return {
      metadata: { ...sm, created: new Date(sm.created.getTime()), updated: new Date(sm.updated.getTime()), finalizers: [...sm.finalizers], labels: { ...sm.labels }, annotations: { ...sm.annotations } },
      spec: res.spec,
    };
  }

  async destroy(ptr: Pointer, opts: OwnerOptions = {}): Promise<void> {
    const c = this.coll(ptr);
    const cur = c.items.get(ptr.id);
    if (!cur) throw new StateError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(ptr)} doesn't exist`);
    if ((opts.owner ?? '') !== cur.metadata.owner) {
      throw new StateError('BRONZE_COSI_OWNER_CONFLICT', `resource ${pointerString(ptr)} is owned by "${cur.metadata.owner}", not "${opts.owner ?? ''}"`);
    }
    if (cur.metadata.finalizers.length > 0) {
      throw new StateError('BRONZE_COSI_PENDING_FINALIZERS', `resource ${pointerString(ptr)} has pending finalizers ${cur.metadata.finalizers.join(', ')}`);
    }
    c.items.delete(ptr.id);
    c.publish('destroyed', cur);
  }

  watch(ptr: Pointer, opts: WatchOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent> {
    const c = this.coll(ptr);
    const toEvent = (st: Stored): StateEvent | undefined => (st.resource.metadata.id === ptr.id ? this.eventOf(st) : undefined);
    let cursor = c.writePos;
    const initial: StateEvent[] = [];
    if (opts.startFromBookmark) cursor = this.resumeFrom(c, opts.startFromBookmark);
    else if (opts.tailEvents && opts.tailEvents > 0) {
      // the last N events of this resource still in the history
      const found: number[] = [];
      for (let p = c.writePos - 1; p >= c.oldest && found.length < opts.tailEvents; p--) if (c.at(p)!.resource.metadata.id === ptr.id) found.push(p);
      cursor = found.length ? found[found.length - 1]! : c.writePos;
    } else {
      const cur = c.items.get(ptr.id);
      initial.push(
        cur
          ? { type: 'created', resource: cur }
          : { type: 'destroyed', resource: tombstone(ptr) },
      );
    }
    return new Watcher(c, cursor, toEvent, initial, signal);
  }

  watchKind(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent> {
    return this.kindWatcher(kind, opts, signal);
  }

  watchKindAggregated(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent[]> {
    const w = this.kindWatcher(kind, opts, signal);
    return { [Symbol.asyncIterator]: () => ({ next: () => w.nextBatch(), return: async () => (await w.return(), { done: true as const, value: undefined }) }) };
  }

  private kindWatcher(kind: Kind, opts: WatchKindOptions, signal?: AbortSignal): Watcher {
    const c = this.coll(kind);
    if (opts.bootstrapContents && (opts.tailEvents || opts.startFromBookmark)) {
      throw new StateError('BRONZE_COSI_UNSUPPORTED', 'bootstrap contents cannot be combined with tail events or a bookmark');
    }
    const match = (r: Resource) => matchesID(r.metadata.id, opts.idQuery) && matchesLabels(r.metadata.labels, opts.labelQuery);
    const filtered = opts.idQuery !== undefined || (opts.labelQuery?.length ?? 0) > 0;
    const toEvent = (st: Stored): StateEvent | undefined => {
      if (!filtered) return this.eventOf(st);
      const now = match(st.resource);
      if (st.type !== 'updated') return now ? this.eventOf(st) : undefined;
      // a resource entering or leaving the query looks like a creation or a destruction to this watcher
      const before = st.old ? match(st.old) : false;
      const bookmark = this.bookmark(st.pos);
      if (now && before) return this.eventOf(st);
      if (now) return { type: 'created', resource: st.resource, bookmark };
      if (before) return { type: 'destroyed', resource: st.old, bookmark };
      return undefined;
    };
    let cursor = c.writePos;
    const initial: StateEvent[] = [];
    if (opts.startFromBookmark) cursor = this.resumeFrom(c, opts.startFromBookmark);
    else if (opts.tailEvents && opts.tailEvents > 0) cursor = Math.max(c.oldest, c.writePos - opts.tailEvents);
    else if (opts.bootstrapContents) {
      const items = [...c.items.values()].filter(match).sort((a, b) => (a.metadata.id < b.metadata.id ? -1 : 1));
      for (const r of items) initial.push({ type: 'created', resource: r });
      initial.push({ type: 'bootstrapped', bookmark: opts.bootstrapBookmark && c.writePos > 0 ? this.bookmark(c.writePos - 1) : undefined });
    }
    return new Watcher(c, cursor, toEvent, initial, signal);
  }
}

/** What a watcher of a missing resource gets: its pointer and nothing else. */
export function tombstone(ptr: Pointer): Resource {
  return {
    metadata: { namespace: ptr.namespace, type: ptr.type, id: ptr.id, version: 0, owner: '', phase: 'running', created: new Date(0), updated: new Date(0), finalizers: [], labels: {}, annotations: {} },
    spec: undefined,
  };
}
