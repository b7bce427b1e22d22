import { randomBytes } from 'node:crypto';
import { CosiError } from './errors.js';
import { compileIDQuery, matchesLabels } from './labels.js';
import { cloneResource, cloneValue, type Kind, type Pointer, pointerString, type Resource, tombstone } from './resource.js';
import type { CoreState, ListOptions, NewResourceLike, OwnerOptions, StateEvent, UpdateOptions, Watch, WatchKindOptions, WatchOptions } from './state.js';
import { DONE, PullWatch } from './watch.js';

export interface InMemoryOptions {
  /**
   * Events kept per resource type, for tail events, bookmarks and watchers that fall behind: the history starts at
   * `historyInitialCapacity` (default 8) and doubles up to `historyMaxCapacity` (default 1024), Talos's settings.
   * `historyCapacity` sets both.
   */
  historyCapacity?: number;
  historyInitialCapacity?: number;
  historyMaxCapacity?: number;
  /**
   * A watch may not start (from a bookmark or with tail events) within this many events of the oldest one held, so it
   * does not overrun at once (default 4).
   */
  historyGap?: number;
  /** the clock (default: the system clock) */
  now?: () => Date;
}

type ChangeType = 'created' | 'updated' | 'destroyed';

/** An event as the history keeps it: the stored snapshots, its position, and what every watcher shares of it. */
interface Stored {
  readonly type: ChangeType;
  readonly resource: Resource;
  readonly old: Resource | undefined;
  readonly pos: number;
  /** the event as watchers without a query see it, built on first use */
  event?: StateEvent;
  /** `{ done: false, value: event }`, shared by every reader that gets this event */
  result?: IteratorResult<StateEvent>;
}

/** One (namespace, type): the resources, a growing ring of past events, and the watchers reading it. */
class Collection {
  readonly items = new Map<string, Resource>();
  private ring: (Stored | undefined)[];
  capacity: number;
  /** the position the next event gets */
  writePos = 0;
  /** watchers reading event by event: woken at each write */
  readonly readers = new Set<Watcher>();
  /** watchers reading batches: woken once per turn of the event loop, after the turn's writes */
  readonly batchReaders = new Set<Watcher>();
  private notifying = false;

  constructor(
    readonly kind: Kind,
    initialCapacity: number,
    readonly maxCapacity: number,
    readonly gap: number,
  ) {
    this.capacity = initialCapacity;
    this.ring = new Array<Stored | undefined>(initialCapacity);
  }

  private readonly notifyBatchReaders = () => {
    this.notifying = false;
    for (const w of this.batchReaders) w.wake();
  };

  publish(type: ChangeType, resource: Resource, old: Resource | undefined): void {
    // the ring grows only while it has not wrapped yet, so every held position keeps its slot
    if (this.writePos === this.capacity && this.capacity < this.maxCapacity) {
      this.capacity = Math.min(this.capacity * 2, this.maxCapacity);
      this.ring.length = this.capacity;
    }
    this.ring[this.writePos % this.capacity] = { type, resource, old, pos: this.writePos };
    this.writePos++;
    for (const w of this.readers) w.wake();
    if (this.batchReaders.size > 0 && !this.notifying) {
      this.notifying = true;
      setImmediate(this.notifyBatchReaders);
    }
  }

  /** The event at a position, or undefined when it has left the ring. */
  at(pos: number): Stored | undefined {
    if (pos < 0 || pos >= this.writePos || this.writePos - pos > this.capacity) return undefined;
    return this.ring[pos % this.capacity];
  }

  /** The lowest position a watch may start from. */
  get firstStart(): number {
    return Math.max(0, this.writePos - this.capacity + this.gap);
  }
}

/** A bookmark: the store's cookie and a position in its history (8 bytes each, big-endian). */
function bookmarkOf(cookie: Buffer, pos: number): Uint8Array {
  const b = Buffer.allocUnsafe(16);
  cookie.copy(b, 0);
  b.writeBigInt64BE(BigInt(pos), 8);
  return b;
}

/** A stored change as every watcher without a query sees it; the bookmark is built when first asked for. */
class SharedEvent implements StateEvent {
  readonly type: ChangeType;
  readonly resource: Resource;
  readonly old: Resource | undefined;
  private mark: Uint8Array | undefined;

  constructor(
    private readonly st: Stored,
    private readonly cookie: Buffer,
  ) {
    this.type = st.type;
    this.resource = st.resource;
    this.old = st.old;
  }

  get bookmark(): Uint8Array {
    return (this.mark ??= bookmarkOf(this.cookie, this.st.pos));
  }
}

/** Turns a stored change into what one watcher sees (undefined: nothing). */
type Filter = (st: Stored) => StateEvent | undefined;

/** One abort listener per signal for all its watchers: thousands of watchers may share one signal. */
const signalWatchers = new WeakMap<AbortSignal, Set<Watcher>>();

function closeOnAbort(signal: AbortSignal, w: Watcher): void {
  let set = signalWatchers.get(signal);
  if (!set) {
    const watchers = new Set<Watcher>();
    set = watchers;
    signalWatchers.set(signal, set);
    signal.addEventListener('abort', () => watchers.forEach((x) => x.close()), { once: true });
  }
  set.add(w);
}

/**
 * One watcher's cursor into its collection's history. Writers never wait for it: it reads at its own pace, and when
 * it falls further behind than the history holds it gets one `errored` event and ends.
 */
class Watcher {
  /** the events it starts with (bootstrap contents, bookmark), as the batches they are delivered in */
  private initial: StateEvent[][];
  private pending: ((r: IteratorResult<StateEvent>) => void) | undefined;
  private pendingBatch: ((r: IteratorResult<StateEvent[]>) => void) | undefined;
  private done = false;

  constructor(
    private readonly coll: Collection,
    private cursor: number,
    private readonly filter: Filter,
    private readonly shared: ((st: Stored) => IteratorResult<StateEvent>) | undefined,
    initial: StateEvent[][],
    readonly batches: boolean,
    private readonly signal?: AbortSignal,
  ) {
    this.initial = initial.filter((b) => b.length > 0);
    (batches ? coll.batchReaders : coll.readers).add(this);
    if (signal) {
      if (signal.aborted) this.close();
      else closeOnAbort(signal, this);
    }
  }

  /** New events may be there: a waiting reader gets them now. */
  wake(): void {
    // taken off first: a poll that ends the watch (overrun) must not settle it with `done` instead of the error
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      const r = this.poll();
      if (r) p(r);
      else this.pending = p;
      return;
    }
    const pb = this.pendingBatch;
    if (pb) {
      this.pendingBatch = undefined;
      const r = this.pollBatch();
      if (r) pb(r);
      else this.pendingBatch = pb;
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.initial = [];
    (this.batches ? this.coll.batchReaders : this.coll.readers).delete(this);
    if (this.signal) signalWatchers.get(this.signal)?.delete(this);
    const p = this.pending;
    const pb = this.pendingBatch;
    this.pending = undefined;
    this.pendingBatch = undefined;
    p?.(DONE);
    pb?.(DONE);
  }

  private overrun(): StateEvent {
    const { kind, writePos, capacity } = this.coll;
    const error = `buffer overrun: namespace "${kind.namespace}" type "${kind.type}": the watcher is at ${this.cursor}, the history holds ${capacity} events up to ${writePos}`;
    this.close();
    return { type: 'errored', error };
  }

  /** The next event if there is one, `done` when closed, undefined when the reader must wait. */
  private poll(): IteratorResult<StateEvent> | undefined {
    const first = this.initial[0];
    if (first) {
      const ev = first.shift()!;
      if (first.length === 0) this.initial.shift();
      return { done: false, value: ev };
    }
    if (this.done) return DONE;
    const coll = this.coll;
    while (this.cursor < coll.writePos) {
      const st = coll.at(this.cursor);
      if (!st) return { done: false, value: this.overrun() };
      this.cursor++;
      if (this.shared) return this.shared(st);
      const ev = this.filter(st);
      if (ev) return { done: false, value: ev };
    }
    return undefined;
  }

  private pollBatch(): IteratorResult<StateEvent[]> | undefined {
    const first = this.initial.shift();
    if (first) return { done: false, value: first };
    if (this.done) return DONE;
    const coll = this.coll;
    const batch: StateEvent[] = [];
    while (this.cursor < coll.writePos) {
      const st = coll.at(this.cursor);
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

  nextBatch(): Promise<IteratorResult<StateEvent[]>> {
    const r = this.pollBatch();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => (this.pendingBatch = resolve));
  }
}

const eventWatch = (w: Watcher): Watch<StateEvent> => new PullWatch(() => w.next(), () => w.close());

const positiveInt = (name: string, v: number | undefined, dflt: number): number => {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `in-memory state option ${name}: ${String(v)} is not a positive integer`);
  return n;
};

/**
 * The in-memory resource store, as COSI's: one collection per (namespace, type) with its resources and a bounded
 * history of events. Reads hand out copies; watchers share the store's snapshots (read-only) and never slow writers.
 */
export class InMemoryState implements CoreState {
  private readonly collections = new Map<string, Map<string, Collection>>();
  private readonly initialCapacity: number;
  private readonly maxCapacity: number;
  private readonly gap: number;
  private readonly now: () => Date;
  /** bookmarks carry this, so a bookmark of another store (or an earlier run) is refused */
  private readonly cookie = randomBytes(8);

  constructor(opts: InMemoryOptions = {}) {
    this.initialCapacity = positiveInt('historyInitialCapacity', opts.historyInitialCapacity ?? opts.historyCapacity, 8);
    this.maxCapacity = Math.max(this.initialCapacity, positiveInt('historyMaxCapacity', opts.historyMaxCapacity ?? opts.historyCapacity, 1024));
    this.gap = opts.historyGap ?? 4;
    if (!Number.isInteger(this.gap) || this.gap < 0 || this.gap >= this.maxCapacity) {
      throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `in-memory state option historyGap: ${this.gap} must be at least 0 and below the history capacity`);
    }
    this.now = opts.now ?? (() => new Date());
  }

  /** The collection of a kind if it exists (reads of kinds never written create nothing). */
  private peek(kind: Kind): Collection | undefined {
    return this.collections.get(kind.namespace)?.get(kind.type);
  }

  private coll(kind: Kind): Collection {
    let byType = this.collections.get(kind.namespace);
    if (!byType) {
      byType = new Map();
      this.collections.set(kind.namespace, byType);
    }
    let c = byType.get(kind.type);
    if (!c) {
      c = new Collection({ namespace: kind.namespace, type: kind.type }, this.initialCapacity, this.maxCapacity, this.gap);
      byType.set(kind.type, c);
    }
    return c;
  }

  private bookmark(pos: number): Uint8Array {
    return bookmarkOf(this.cookie, pos);
  }

  /** The position after the bookmarked event; refused when the bookmark is not this store's or has expired. */
  private resumeFrom(c: Collection, bookmark: Uint8Array): number {
    const b = Buffer.from(bookmark.buffer, bookmark.byteOffset, bookmark.byteLength);
    if (b.length !== 16 || !b.subarray(0, 8).equals(this.cookie)) throw new CosiError('BRONZE_COSI_INVALID_BOOKMARK', 'invalid watch bookmark: it is not from this store');
    const pos = Number(b.readBigInt64BE(8));
    if (pos < -1 || pos >= c.writePos || pos + 1 < c.firstStart) throw new CosiError('BRONZE_COSI_INVALID_BOOKMARK', 'invalid watch bookmark: the event is no longer in the history');
    return pos + 1;
  }

  /** The event every watcher without a query shares, with its bookmark built on first use. */
  private eventOf(st: Stored): StateEvent {
    return (st.event ??= new SharedEvent(st, this.cookie));
  }

  private readonly sharedResult = (st: Stored): IteratorResult<StateEvent> => {
    st.result ??= Object.freeze({ done: false as const, value: this.eventOf(st) });
    return st.result;
  };

  async get(ptr: Pointer): Promise<Resource> {
    const r = this.peek(ptr)?.items.get(ptr.id);
    if (!r) throw new CosiError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(ptr)} doesn't exist`);
    return cloneResource(r);
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<Resource[]> {
    const re = compileIDQuery(opts.idQuery);
    const out: Resource[] = [];
    const c = this.peek(kind);
    if (!c) return out;
    for (const r of c.items.values()) {
      if ((re === undefined || re.test(r.metadata.id)) && matchesLabels(r.metadata.labels, opts.labelQuery)) out.push(cloneResource(r));
    }
    return out.sort(byID);
  }

  async create(res: Resource | NewResourceLike, opts: OwnerOptions = {}): Promise<Resource> {
    const m = res.metadata;
    if (!m.id || !m.type || !m.namespace) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${pointerString(m)}: namespace, type and ID must not be empty`);
    const c = this.coll(m);
    if (c.items.has(m.id)) throw new CosiError('BRONZE_COSI_ALREADY_EXISTS', `resource ${pointerString(m)} already exists`);
    const phase = m.phase ?? 'running';
    if (phase !== 'running' && phase !== 'tearingDown') throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${pointerString(m)}: invalid phase "${String(phase)}"`);
    const now = this.now();
    const stored: Resource = {
      metadata: {
        namespace: m.namespace,
        type: m.type,
        id: m.id,
        version: 1,
        owner: opts.owner ?? '',
        phase,
        created: now,
        updated: now,
        finalizers: [...(m.finalizers ?? [])],
        labels: { ...m.labels },
        annotations: { ...m.annotations },
      },
      spec: cloneValue(res.spec),
    };
    c.items.set(m.id, stored);
    c.publish('created', stored, undefined);
    return cloneResource(stored);
  }

  async update(res: Resource, opts: UpdateOptions = {}): Promise<Resource> {
    const m = res.metadata;
    const c = this.peek(m);
    const cur = c?.items.get(m.id);
    if (!c || !cur) throw new CosiError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(m)} doesn't exist`);
    const cm = cur.metadata;
    const owner = opts.owner ?? '';
    if (owner !== cm.owner) throw new CosiError('BRONZE_COSI_OWNER_CONFLICT', `resource ${pointerString(m)} is owned by "${cm.owner}", not "${owner}"`);
    if (m.version !== cm.version) {
      throw new CosiError('BRONZE_COSI_VERSION_CONFLICT', `resource ${pointerString(m)} update conflict: expected version "${m.version}", actual version "${cm.version}"`);
    }
    const expected = opts.expectedPhase ?? 'running';
    if (expected !== 'any' && cm.phase !== expected) throw new CosiError('BRONZE_COSI_PHASE_CONFLICT', `resource ${pointerString(m)} is not in phase ${expected}`);
    if (m.phase !== 'running' && m.phase !== 'tearingDown') throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${pointerString(m)}: invalid phase "${String(m.phase)}"`);
    const stored: Resource = {
      metadata: {
        namespace: cm.namespace,
        type: cm.type,
        id: cm.id,
        version: cm.version + 1,
        owner: cm.owner,
        phase: m.phase,
        created: cm.created,
        updated: this.now(),
        finalizers: [...m.finalizers],
        labels: { ...m.labels },
        annotations: { ...m.annotations },
      },
      spec: cloneValue(res.spec),
    };
    c.items.set(m.id, stored);
    c.publish('updated', stored, cur);
    // the store keeps its own copy of the spec, so the caller's spec object goes back to the caller
    const sm = stored.metadata;
    return {
      metadata: {
        ...sm,
        created: new Date(sm.created.getTime()),
        updated: new Date(sm.updated.getTime()),
        finalizers: [...sm.finalizers],
        labels: { ...sm.labels },
        annotations: { ...sm.annotations },
      },
      spec: res.spec,
    };
  }

  async destroy(ptr: Pointer, opts: OwnerOptions = {}): Promise<void> {
    const c = this.peek(ptr);
    const cur = c?.items.get(ptr.id);
    if (!c || !cur) throw new CosiError('BRONZE_COSI_NOT_FOUND', `resource ${pointerString(ptr)} doesn't exist`);
    const owner = opts.owner ?? '';
    if (owner !== cur.metadata.owner) throw new CosiError('BRONZE_COSI_OWNER_CONFLICT', `resource ${pointerString(ptr)} is owned by "${cur.metadata.owner}", not "${owner}"`);
    if (cur.metadata.finalizers.length > 0) {
      throw new CosiError('BRONZE_COSI_PENDING_FINALIZERS', `resource ${pointerString(ptr)} has pending finalizers ${cur.metadata.finalizers.join(', ')}`);
    }
    c.items.delete(ptr.id);
    c.publish('destroyed', cur, undefined);
  }

  async watch(ptr: Pointer, opts: WatchOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    const c = this.coll(ptr);
    const tail = opts.tailEvents ?? 0;
    if (tail > 0 && opts.startFromBookmark) throw new CosiError('BRONZE_COSI_UNSUPPORTED', 'tail events and a bookmark cannot be combined');
    let cursor = c.writePos;
    const initial: StateEvent[] = [];
    if (opts.startFromBookmark) cursor = this.resumeFrom(c, opts.startFromBookmark);
    else if (tail > 0) {
      // back from the newest event until enough events of this resource are found
      let found = 0;
      for (let p = c.writePos - 1; p >= c.firstStart && found < tail; p--) {
        if (c.at(p)!.resource.metadata.id === ptr.id) {
          found++;
          cursor = p;
        }
      }
    } else {
      const cur = c.items.get(ptr.id);
      initial.push(cur ? { type: 'created', resource: cur } : { type: 'destroyed', resource: tombstone(ptr) });
    }
    const id = ptr.id;
    const filter: Filter = (st) => (st.resource.metadata.id === id ? this.eventOf(st) : undefined);
    return eventWatch(new Watcher(c, cursor, filter, undefined, [initial], false, signal));
  }

  async watchKind(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    return eventWatch(this.kindWatcher(kind, opts, false, signal));
  }

  async watchKindAggregated(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent[]>> {
    const w = this.kindWatcher(kind, opts, true, signal);
    return new PullWatch(() => w.nextBatch(), () => w.close());
  }

  private kindWatcher(kind: Kind, opts: WatchKindOptions, batches: boolean, signal?: AbortSignal): Watcher {
    const c = this.coll(kind);
    const tail = opts.tailEvents ?? 0;
    if (opts.bootstrapContents && (tail > 0 || opts.startFromBookmark)) throw new CosiError('BRONZE_COSI_UNSUPPORTED', 'bootstrap contents cannot be combined with tail events or a bookmark');
    if (tail > 0 && opts.startFromBookmark) throw new CosiError('BRONZE_COSI_UNSUPPORTED', 'tail events and a bookmark cannot be combined');
    const re = compileIDQuery(opts.idQuery);
    const labels = opts.labelQuery && opts.labelQuery.length > 0 ? opts.labelQuery : undefined;
    const queried = re !== undefined || labels !== undefined;
    const match = (r: Resource) => (re === undefined || re.test(r.metadata.id)) && matchesLabels(r.metadata.labels, labels);

    let cursor = c.writePos;
    if (opts.startFromBookmark) cursor = this.resumeFrom(c, opts.startFromBookmark);
    else if (tail > 0) cursor = Math.max(0, c.writePos - Math.min(tail, c.capacity - c.gap));

    const initial: StateEvent[][] = [];
    const marker = (type: 'bootstrapped' | 'noop'): StateEvent => ({ type, resource: tombstone({ ...kind, id: '' }), bookmark: this.bookmark(cursor - 1) });
    if (opts.bootstrapContents) {
      const items = [...c.items.values()].filter(match).sort(byID);
      initial.push([...items.map((r): StateEvent => ({ type: 'created', resource: r })), marker('bootstrapped')]);
    }
    if (opts.bootstrapBookmark) initial.push([marker('noop')]);

    let filter: Filter = (st) => this.eventOf(st);
    if (queried) {
      filter = (st) => {
        const now = match(st.resource);
        if (st.type !== 'updated') return now ? this.eventOf(st) : undefined;
        const before = match(st.old!);
        if (now && before) return this.eventOf(st);
        // a resource entering or leaving the query looks like a creation or a destruction to this watcher
        if (now || before) return { type: now ? 'created' : 'destroyed', resource: st.resource, bookmark: this.bookmark(st.pos) };
        return undefined;
      };
    }
    return new Watcher(c, cursor, filter, queried || batches ? undefined : this.sharedResult, initial, batches, signal);
  }
}

const byID = (a: Resource, b: Resource) => (a.metadata.id < b.metadata.id ? -1 : a.metadata.id > b.metadata.id ? 1 : 0);
