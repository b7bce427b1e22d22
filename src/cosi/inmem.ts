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
}

export interface InMemoryOptions {
  /** events kept per resource type for tail_events, bookmarks and slow watchers (default 1024) */
  historyCapacity?: number;
  /** the clock, for tests */
  now?: () => Date;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v) && !ArrayBuffer.isView(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** One (namespace, type): the resources and a bounded ring of past events. */
class Collection {
  readonly items = new Map<string, Resource>();
  readonly ring: Stored[] = [];
  writePos = 0;
  readonly watchers = new Set<Watcher>();

  constructor(readonly capacity: number) {}

  publish(type: Stored['type'], resource: Resource, old?: Resource): void {
    const ev: Stored = { type, resource, old, pos: this.writePos };
    if (this.ring.length < this.capacity) this.ring.push(ev);
    else this.ring[this.writePos % this.capacity] = ev;
    this.writePos++;
    for (const w of this.watchers) w.wake();
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

/**
 * One watcher's cursor into its collection's history. Writers never wait for it: it reads at its own pace, and when
 * it falls further behind than the history holds it gets one `errored` event and ends.
 */
class Watcher implements AsyncIterableIterator<StateEvent> {
  private readonly initial: StateEvent[];
  private initialPos = 0;
  private waiting: (() => void) | undefined;
  private done = false;

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
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
  }

  wake(): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w();
    }
  }

  private close(): void {
    this.done = true;
    this.coll.watchers.delete(this);
    this.wake();
  }

  async next(): Promise<IteratorResult<StateEvent>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      if (this.initialPos < this.initial.length) return { done: false, value: this.initial[this.initialPos++]! };
      if (this.cursor < this.coll.writePos) {
        const st = this.coll.at(this.cursor);
        if (!st) {
          this.close();
          return { done: false, value: { type: 'errored', error: 'buffer overrun: the watcher fell too far behind, list again' } };
        }
        this.cursor++;
        const ev = this.filter(st);
        if (ev) return { done: false, value: ev };
        continue;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
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
  private readonly collections = new Map<string, Collection>();
  private readonly capacity: number;
  private readonly now: () => Date;
  /** bookmarks carry this, so a bookmark from another store (or an earlier run) is refused */
  private readonly cookie = randomBytes(8);

  constructor(opts: InMemoryOptions = {}) {
    this.capacity = opts.historyCapacity ?? 1024;
    this.now = opts.now ?? (() => new Date());
  }

  private coll(kind: Kind): Collection {
    const key = `${kind.namespace}\u0000${kind.type}`;
    let c = this.collections.get(key);
    if (!c) {
      c = new Collection(this.capacity);
      this.collections.set(key, c);
    }
    return c;
  }

  private bookmark(pos: number): Uint8Array {
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
    const stored: Resource = deepFreeze({
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
    });
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
    const stored: Resource = deepFreeze({
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
    });
    c.items.set(m.id, stored);
    c.publish('updated', stored, cur);
    return cloneResource(stored);
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
    const toEvent = (st: Stored): StateEvent | undefined =>
      st.resource.metadata.id === ptr.id ? { type: st.type, resource: st.resource, old: st.old, bookmark: this.bookmark(st.pos) } : undefined;
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
    const c = this.coll(kind);
    if (opts.bootstrapContents && (opts.tailEvents || opts.startFromBookmark)) {
      throw new StateError('BRONZE_COSI_UNSUPPORTED', 'bootstrap contents cannot be combined with tail events or a bookmark');
    }
    const match = (r: Resource) => matchesID(r.metadata.id, opts.idQuery) && matchesLabels(r.metadata.labels, opts.labelQuery);
    const filtered = opts.idQuery !== undefined || (opts.labelQuery?.length ?? 0) > 0;
    const toEvent = (st: Stored): StateEvent | undefined => {
      const bookmark = this.bookmark(st.pos);
      if (!filtered) return { type: st.type, resource: st.resource, old: st.old, bookmark };
      const now = match(st.resource);
      if (st.type !== 'updated') return now ? { type: st.type, resource: st.resource, old: st.old, bookmark } : undefined;
      // a resource entering or leaving the query looks like a creation or a destruction to this watcher
      const before = st.old ? match(st.old) : false;
      if (now && before) return { type: 'updated', resource: st.resource, old: st.old, bookmark };
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
  return deepFreeze({
    metadata: { namespace: ptr.namespace, type: ptr.type, id: ptr.id, version: 0, owner: '', phase: 'running', created: new Date(0), updated: new Date(0), finalizers: [], labels: {}, annotations: {} },
    spec: undefined,
  });
}
