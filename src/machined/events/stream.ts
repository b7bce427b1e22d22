import { AsyncLocalStorage } from 'node:async_hooks';
import { Event } from '../../api/gen/machine/machine.js';
import { EventsError } from './errors.js';
import { encodePayload, typeUrlOf, type EventPayloads, type EventType } from './payloads.js';
import { XidGenerator, compareXid, encodeXid, parseXid, xidSeconds } from './xid.js';

/** One published event, encoded once and shared by every watcher. */
export interface StoredEvent<T extends EventType = EventType> {
  id: string;
  idBytes: Uint8Array;
  actorId: string;
  type: T;
  message: EventPayloads[T];
  typeUrl: string;
  value: Uint8Array;
  /** how many events were published after this one when it was handed out (Talos's backlog) */
  backlog?: number;
}

export interface WatchOptions {
  /** N > 0: the last N events; negative: every buffered event; 0: only new events */
  tailEvents?: number;
  /** events after the one with this xid */
  tailId?: string;
  /** events from the last N seconds */
  tailSeconds?: number;
  /** only events of this actor */
  actorId?: string;
  /** ends the watch (the iterator returns) */
  signal?: AbortSignal;
}

export interface EventStreamOptions {
  /** ring size (default 1000, as machined) */
  capacity?: number;
  /** safety gap between the oldest event handed to a new watcher and the writer (default 10); history = capacity - gap */
  gap?: number;
  ids?: XidGenerator;
  /** clock in milliseconds, for tail_seconds (default Date.now) */
  now?: () => number;
}

const actorStorage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with an actor id: events published inside it (and in everything it starts asynchronously) carry the id,
 * as Talos carries it in the context of an API-triggered sequence.
 */
export function withActor<R>(actorId: string, fn: () => R): R {
  return actorStorage.run(actorId, fn);
}

/** The actor id of the current asynchronous context, or ''. */
export function currentActor(): string {
  return actorStorage.getStore() ?? '';
}

/**
 * machined's event stream: a ring of the last `capacity` events with xid ids. Publishing never waits: it writes the
 * ring and wakes the watchers. Each watcher reads at its own pace from its own position; one that falls a full ring
 * behind gets an EventsError (BRONZE_EVENTS_OVERRUN) and is dropped.
 */
export class EventStream {
  private readonly ring: (StoredEvent | undefined)[];
  private writePos = 0;
  private readonly capacity: number;
  private readonly gap: number;
  private readonly ids: XidGenerator;
  private readonly now: () => number;
  private waiters = new Set<() => void>();

  constructor(opts: EventStreamOptions = {}) {
    this.capacity = opts.capacity ?? 1000;
    this.gap = opts.gap ?? 10;
    if (!(this.gap >= 0 && this.gap < this.capacity)) throw new EventsError('BRONZE_EVENTS_INVALID_OPTIONS', `gap (${this.gap}) must be below capacity (${this.capacity})`);
    this.ring = new Array(this.capacity);
    this.now = opts.now ?? Date.now;
    this.ids = opts.ids ?? new XidGenerator({ now: this.now });
  }

  /** Number of events published so far. */
  get published(): number {
    return this.writePos;
  }

  /** Publishes an event; the actor id defaults to the one of the current context (see withActor). */
  publish<T extends EventType>(type: T, message: EventPayloads[T], actorId = currentActor()): StoredEvent<T> {
    const idBytes = this.ids.nextBytes();
    const event: StoredEvent<T> = { id: encodeXid(idBytes), idBytes, actorId, type, message, typeUrl: typeUrlOf(type), value: encodePayload(type, message) };
    this.ring[this.writePos % this.capacity] = event;
    this.writePos++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
    return event;
  }

  private at(pos: number): StoredEvent {
    return this.ring[pos % this.capacity]!;
  }

  /** The first ring position for a watcher with these options. */
  private startPosition(opts: WatchOptions): number {
    const set = [opts.tailEvents, opts.tailId, opts.tailSeconds].filter((v) => v !== undefined && v !== 0 && v !== '').length;
    if (set > 1) throw new EventsError('BRONZE_EVENTS_INVALID_OPTIONS', 'tail_events, tail_id and tail_seconds are mutually exclusive');
    const end = this.writePos;
    const min = Math.max(0, end - (this.capacity - this.gap));
    // first position in [min, end) whose event satisfies pred, events being ordered by id
    const search = (pred: (e: StoredEvent) => boolean) => {
      let lo = min;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pred(this.at(mid))) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    if (opts.tailEvents) return opts.tailEvents < 0 ? min : Math.max(min, end - opts.tailEvents);
    if (opts.tailId) {
      let tail: Uint8Array;
      try {
        tail = parseXid(opts.tailId);
      } catch (e) {
        throw new EventsError('BRONZE_EVENTS_INVALID_ID', `error parsing tail_id: ${(e as Error).message}`, { cause: e });
      }
      return search((e) => compareXid(e.idBytes, tail) > 0);
    }
    if (opts.tailSeconds) {
      const since = this.now() / 1000 - opts.tailSeconds;
      return search((e) => xidSeconds(e.idBytes) > since);
    }
    return end;
  }

  /**
   * Watches the stream from the position the options select. Option errors (conflicting tails, bad tail_id) throw
   * here, before anything is read. The iterator ends when `signal` aborts or `return()` is called, and throws
   * BRONZE_EVENTS_OVERRUN when the watcher fell a full ring behind.
   */
  watch(opts: WatchOptions = {}): AsyncIterableIterator<StoredEvent> {
    let pos = this.startPosition(opts);
    const signal = opts.signal;
    let done = false;
    let wake: (() => void) | undefined;
    const onAbort = () => {
      done = true;
      wake?.();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): IteratorResult<StoredEvent> => {
      done = true;
      signal?.removeEventListener('abort', onAbort);
      if (wake) this.waiters.delete(wake);
      return { done: true, value: undefined };
    };
    const next = async (): Promise<IteratorResult<StoredEvent>> => {
      while (true) {
        if (done || signal?.aborted) return finish();
        if (pos < this.writePos) {
          if (this.writePos - pos >= this.capacity) {
            finish();
            throw new EventsError('BRONZE_EVENTS_OVERRUN', `event stream overrun: the watcher fell ${this.writePos - pos} events behind (buffer ${this.capacity})`);
          }
          const event = this.at(pos++);
          if (opts.actorId && event.actorId !== opts.actorId) continue;
          return { done: false, value: { ...event, backlog: this.writePos - pos } };
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          this.waiters.add(resolve);
        });
        wake = undefined;
      }
    };
    const it: AsyncIterableIterator<StoredEvent> = {
      next,
      return: async () => finish(),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Events currently buffered (at most capacity - gap), oldest first. */
  history(): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let p = Math.max(0, this.writePos - (this.capacity - this.gap)); p < this.writePos; p++) out.push(this.at(p));
    return out;
  }

  /** A fresh id from this stream's generator (for the hello event). */
  nextId(): string {
    return this.ids.next();
  }
}

/** The wire form of a stored event (machine.Event, metadata left for apid). */
export function toMachineEvent(e: StoredEvent): Event {
  return Event.fromPartial({ data: { typeUrl: e.typeUrl, value: Buffer.from(e.value) }, id: e.id, actorId: e.actorId });
}

/**
 * The empty first message of every Events stream: no payload (empty type URL and value), a fresh id, and the
 * requested actor id. Clients read it to know the stream is up and discard it.
 */
export function helloEvent(stream: EventStream, actorId: string): Event {
  return Event.fromPartial({ data: { typeUrl: '', value: Buffer.alloc(0) }, id: stream.nextId(), actorId });
}
