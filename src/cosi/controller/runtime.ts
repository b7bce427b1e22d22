import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { CosiError, isNotFound } from '../errors.js';
import { type Kind, kindKey, type NewResource, type Pointer, pointerKey, pointerString, type Resource } from '../resource.js';
import type { ListOptions, State, StateEvent, Updater, UpdateOptions } from '../state.js';
import { sleep } from '../watch.js';
import type { Controller, ControllerAdapter, DependencyEdge, Input, Output } from './controller.js';

export type { DependencyEdge } from './controller.js';
export { dependencyGraphDot } from './graph.js';

export interface RuntimeOptions {
  /**
   * Restart delays after a controller fails: the first is `backoffBaseMs` (default 500), each next one
   * `backoffMultiplier` (default 1.5) times longer up to `backoffMaxMs` (default 60 000), each randomized by
   * ±`backoffJitter` (default 0.5, i.e. ±50 %). A pass that goes well starts over from the first.
   */
  backoffBaseMs?: number;
  backoffMultiplier?: number;
  backoffMaxMs?: number;
  backoffJitter?: number;
  /** called on every controller failure, after it is logged */
  onError?(controller: string, err: unknown): void;
}

export interface ControllerStats {
  /** passes started (wake-ups delivered) */
  wakeups: number;
  /** restarts after failures */
  restarts: number;
  /** the last failure, if any */
  lastError?: string;
}

const inputEdge = { strong: 'INPUT_STRONG', weak: 'INPUT_WEAK', destroyReady: 'INPUT_DESTROY_READY' } as const;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** One controller's view of the runtime: its wake-ups, its access checks, its output tracking. */
class Adapter implements ControllerAdapter {
  inputs: Input[];
  readonly outputs: Output[];
  private readonly outputTypes: Set<string>;
  private dirty = true;
  private waiter: (() => void) | undefined;
  private tracked: Set<string> | undefined;
  private delay: number;
  readonly stats: ControllerStats = { wakeups: 0, restarts: 0 };
  /** set while the runtime runs */
  signal: AbortSignal | undefined;

  constructor(
    readonly controller: Controller,
    private readonly state: State,
    private readonly rt: ControllerRuntime,
    readonly log: Logger,
  ) {
    this.inputs = [...controller.inputs()];
    this.outputs = [...controller.outputs()];
    this.outputTypes = new Set(this.outputs.map((o) => o.type));
    this.delay = rt.backoff.initial;
  }

  private get owner(): string {
    return this.controller.name;
  }

  /** Marks the controller for another pass: one pending mark absorbs any number of changes. */
  trigger(): void {
    this.dirty = true;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w();
    }
  }

  /** Whether a change of `kind` concerns one of this controller's inputs. */
  wants(ev: StateEvent, kind: Kind): boolean {
    const r = ev.resource;
    for (const i of this.inputs) {
      if (i.namespace !== kind.namespace || i.type !== kind.type) continue;
      if (i.id !== undefined && r?.metadata.id !== i.id) continue;
      // an output being torn down matters once nothing holds it any more
      if (i.kind === 'destroyReady' && !(r && r.metadata.phase === 'tearingDown' && r.metadata.finalizers.length === 0)) continue;
      return true;
    }
    return false;
  }

  async *events(): AsyncIterable<void> {
    const signal = this.signal;
    if (!signal) return;
    while (!signal.aborted) {
      if (!this.dirty) {
        await new Promise<void>((resolve) => (this.waiter = resolve));
        continue;
      }
      this.dirty = false;
      this.stats.wakeups++;
      yield;
    }
  }

  queueReconcile(): void {
    this.trigger();
  }

  resetRestartBackoff(): void {
    this.delay = this.rt.backoff.initial;
  }

  /** The delay before the next restart, growing it for the one after. */
  nextDelay(): number {
    const { multiplier, max, jitter } = this.rt.backoff;
    const d = this.delay * (1 - jitter + Math.random() * 2 * jitter);
    this.delay = Math.min(this.delay * multiplier, max);
    return d;
  }

  updateInputs(inputs: Input[]): void {
    this.inputs = [...inputs];
    this.rt.inputsChanged(this);
    this.trigger();
  }

  private checkRead(namespace: string, type: string, id?: string): void {
    if (this.outputTypes.has(type)) return;
    for (const i of this.inputs) {
      if (i.namespace !== namespace || i.type !== type) continue;
      if (i.id === undefined || i.id === id) return;
    }
    throw new CosiError('BRONZE_COSI_NOT_INPUT', `controller ${this.owner} reads ${type}(${namespace}${id !== undefined ? `/${id}` : ''}), which is neither its input nor its output`);
  }

  private checkWrite(ptr: Pointer): void {
    if (!this.outputTypes.has(ptr.type)) throw new CosiError('BRONZE_COSI_NOT_OUTPUT', `controller ${this.owner} writes ${pointerString(ptr)}, but ${ptr.type} is not its output`);
  }

  private checkFinalizer(ptr: Pointer): void {
    for (const i of this.inputs) {
      if (i.kind === 'strong' && i.namespace === ptr.namespace && i.type === ptr.type && (i.id === undefined || i.id === ptr.id)) return;
    }
    throw new CosiError('BRONZE_COSI_NOT_INPUT', `controller ${this.owner} changes finalizers of ${pointerString(ptr)}, which is not its strong input`);
  }

  private track(ptr: Pointer): void {
    this.tracked?.add(pointerKey(ptr));
  }

  async get<S>(ptr: Pointer): Promise<Resource<S>> {
    this.checkRead(ptr.namespace, ptr.type, ptr.id);
    return (await this.state.get(ptr)) as Resource<S>;
  }

  async getOptional<S>(ptr: Pointer): Promise<Resource<S> | undefined> {
    this.checkRead(ptr.namespace, ptr.type, ptr.id);
    try {
      return (await this.state.get(ptr)) as Resource<S>;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<S>(kind: Kind, opts?: ListOptions): Promise<Resource<S>[]> {
    this.checkRead(kind.namespace, kind.type);
    return (await this.state.list(kind, opts)) as Resource<S>[];
  }

  async create<S>(res: Resource<S> | NewResource<S>): Promise<Resource<S>> {
    this.checkWrite(res.metadata);
    this.track(res.metadata);
    return (await this.state.create(res, { owner: this.owner })) as Resource<S>;
  }

  async update<S>(res: Resource<S>, opts: Pick<UpdateOptions, 'expectedPhase'> = {}): Promise<Resource<S>> {
    this.checkWrite(res.metadata);
    this.track(res.metadata);
    return (await this.state.update(res, { ...opts, owner: this.owner })) as Resource<S>;
  }

  async modify<S>(ptr: Pointer, emptySpec: () => S, fn: Updater<S>, opts: Pick<UpdateOptions, 'expectedPhase'> = {}): Promise<Resource<S>> {
    this.checkWrite(ptr);
    this.track(ptr);
    return this.state.modify<S>(ptr, emptySpec, fn, { ...opts, owner: this.owner });
  }

  async teardown(ptr: Pointer): Promise<boolean> {
    this.checkWrite(ptr);
    return this.state.teardown(ptr, { owner: this.owner });
  }

  async destroy(ptr: Pointer): Promise<void> {
    this.checkWrite(ptr);
    await this.state.destroy(ptr, { owner: this.owner });
  }

  async addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    this.checkFinalizer(ptr);
    await this.state.addFinalizer(ptr, ...finalizers);
  }

  async removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    this.checkFinalizer(ptr);
    await this.state.removeFinalizer(ptr, ...finalizers);
  }

  startTrackingOutputs(): void {
    // a pass that ended early (nothing to do until an input appears) left tracking on: the new pass starts afresh
    this.tracked = new Set();
  }

  async cleanupOutputs(...kinds: Kind[]): Promise<void> {
    const tracked = this.tracked;
    if (!tracked) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `controller ${this.owner}: cleanupOutputs without startTrackingOutputs`);
    this.tracked = undefined;
    for (const kind of kinds) {
      for (const r of await this.list(kind)) {
        if (r.metadata.owner !== this.owner) continue;
        // an output written this pass stays, unless it is being torn down (then it goes once nothing holds it)
        if (tracked.has(pointerKey(r.metadata)) && r.metadata.phase !== 'tearingDown') continue;
        const ready = r.metadata.phase === 'tearingDown' ? r.metadata.finalizers.length === 0 : await this.teardown(r.metadata);
        if (ready) await this.destroy(r.metadata);
      }
    }
    this.resetRestartBackoff();
  }

  /** Forgets a pass's tracking (after a failure). */
  resetTracking(): void {
    this.tracked = undefined;
  }
}

/** One watch of a kind, shared by every controller with an input of that kind. */
interface KindWatch {
  kind: Kind;
  /** settles once the watch is in place */
  ready: Promise<void>;
}

/**
 * Runs controllers over a state: each declares inputs and outputs, is woken (once per burst) when an input changes,
 * reads only its inputs and outputs, writes only its outputs (one exclusive writer per type), and is restarted with
 * exponential backoff when it fails.
 */
export class ControllerRuntime {
  private readonly adapters = new Map<string, Adapter>();
  /** the adapters with an input of each kind */
  private readonly byKind = new Map<string, Set<Adapter>>();
  private readonly watches = new Map<string, KindWatch>();
  private readonly exclusive = new Map<string, string>();
  private readonly shared = new Map<string, string[]>();
  readonly backoff: { initial: number; multiplier: number; max: number; jitter: number };
  private readonly onError: RuntimeOptions['onError'];
  private ac: AbortController | undefined;
  private running: Promise<unknown>[] = [];

  constructor(
    private readonly state: State,
    private readonly log: Logger,
    opts: RuntimeOptions = {},
  ) {
    this.backoff = { initial: opts.backoffBaseMs ?? 500, multiplier: opts.backoffMultiplier ?? 1.5, max: opts.backoffMaxMs ?? 60_000, jitter: opts.backoffJitter ?? 0.5 };
    if (!(this.backoff.initial > 0) || !(this.backoff.multiplier >= 1) || !(this.backoff.max >= this.backoff.initial) || !(this.backoff.jitter >= 0 && this.backoff.jitter < 1)) {
      throw new CosiError('BRONZE_COSI_REGISTRATION', `controller runtime options: invalid backoff ${JSON.stringify(this.backoff)}`);
    }
    this.onError = opts.onError;
  }

  /**
   * Adds a controller, before or after start(). Refused for a duplicate name, for an exclusive output another
   * controller writes, and for an output another controller writes exclusively.
   */
  register(c: Controller): void {
    if (this.adapters.has(c.name)) throw new CosiError('BRONZE_COSI_REGISTRATION', `controller ${c.name} is already registered`);
    const outputs = c.outputs();
    for (const o of outputs) {
      const ex = this.exclusive.get(o.type);
      if (ex) throw new CosiError('BRONZE_COSI_REGISTRATION', `controller ${c.name}: ${o.type} is already an exclusive output of ${ex}`);
      if (o.kind === 'exclusive' && this.shared.has(o.type)) {
        throw new CosiError('BRONZE_COSI_REGISTRATION', `controller ${c.name}: ${o.type} is already a shared output of ${this.shared.get(o.type)!.join(', ')}`);
      }
    }
    for (const o of outputs) {
      if (o.kind === 'exclusive') this.exclusive.set(o.type, c.name);
      else this.shared.set(o.type, [...(this.shared.get(o.type) ?? []), c.name]);
    }
    const a = new Adapter(c, this.state, this, this.log.child({ controller: c.name }));
    this.adapters.set(c.name, a);
    this.index(a);
    if (this.ac) this.launch(a, this.ac.signal);
  }

  /** Starts every controller; they run until stop(). */
  start(): void {
    if (this.ac) return;
    this.ac = new AbortController();
    // every controller and every watched kind listens on this one signal: dozens of listeners, none leaked
    setMaxListeners(0, this.ac.signal);
    for (const a of this.adapters.values()) this.launch(a, this.ac.signal);
  }

  /** Stops every controller and watch, and waits for them to end. */
  async stop(): Promise<void> {
    this.ac?.abort();
    await Promise.allSettled(this.running);
    this.running = [];
    this.ac = undefined;
    this.watches.clear();
  }

  private launch(a: Adapter, signal: AbortSignal): void {
    a.signal = signal;
    // a stop wakes a waiting controller, which then sees the signal and returns
    signal.addEventListener('abort', () => a.trigger(), { once: true });
    a.trigger();
    this.running.push(this.runController(a, signal));
  }

  /** Keeps the kind index in step with an adapter's inputs. */
  private index(a: Adapter): void {
    for (const set of this.byKind.values()) set.delete(a);
    for (const i of a.inputs) {
      const key = kindKey(i);
      let set = this.byKind.get(key);
      if (!set) {
        set = new Set();
        this.byKind.set(key, set);
      }
      set.add(a);
    }
  }

  /** Called by an adapter whose inputs changed at run time. */
  inputsChanged(a: Adapter): void {
    this.index(a);
    if (this.ac) void this.watchesOf(a, this.ac.signal);
  }

  /** The watches of an adapter's inputs, started as needed; resolves once all are in place. */
  private watchesOf(a: Adapter, signal: AbortSignal): Promise<void> {
    const ready: Promise<void>[] = [];
    for (const i of a.inputs) {
      const key = kindKey(i);
      let w = this.watches.get(key);
      if (!w) {
        const kind = { namespace: i.namespace, type: i.type };
        let established: () => void = () => {};
        w = { kind, ready: new Promise<void>((resolve) => (established = resolve)) };
        this.watches.set(key, w);
        this.running.push(this.watchKind(kind, key, signal, established));
      }
      ready.push(w.ready);
    }
    return Promise.all(ready).then(() => undefined);
  }

  private wake(key: string, ev?: StateEvent, kind?: Kind): void {
    const set = this.byKind.get(key);
    if (!set) return;
    for (const a of set) if (!ev || a.wants(ev, kind!)) a.trigger();
  }

  /** One watch of a kind for all controllers; when it breaks it is set up again and everyone re-reads. */
  private async watchKind(kind: Kind, key: string, signal: AbortSignal, established: () => void): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      try {
        const w = await this.state.watchKindAggregated(kind, {}, signal);
        established();
        // changes made while the watch was being set up (or was broken) were not seen: have everyone re-read
        if (!first) this.wake(key);
        first = false;
        batches: for await (const batch of w) {
          for (const ev of batch) {
            if (ev.type === 'errored') {
              this.log.warn({ kind, err: ev.error }, 'controller runtime watch failed; restarting it');
              break batches;
            }
            this.wake(key, ev, kind);
          }
        }
      } catch (e) {
        if (signal.aborted) break;
        this.log.error({ kind, err: messageOf(e) }, 'controller runtime watch error; restarting it');
        await sleep(this.backoff.initial, signal);
        first = false;
      }
    }
    // stopped before the watch was ever in place: nobody waits for it any more
    established();
  }

  private async runController(a: Adapter, signal: AbortSignal): Promise<void> {
    const log = a.log;
    await this.watchesOf(a, signal);
    while (!signal.aborted) {
      try {
        log.debug('controller starting');
        await a.controller.run(a, signal, log);
        if (!signal.aborted) log.debug('controller finished');
        return;
      } catch (e) {
        a.resetTracking();
        if (signal.aborted) return;
        a.stats.restarts++;
        a.stats.lastError = messageOf(e);
        const delay = a.nextDelay();
        log.error({ err: e, restartInMs: Math.round(delay) }, 'controller failed');
        this.onError?.(a.controller.name, e);
        await sleep(delay, signal);
        a.trigger();
      }
    }
  }

  stats(name: string): ControllerStats | undefined {
    return this.adapters.get(name)?.stats;
  }

  /** The dependency graph: every controller's outputs (exclusive, then shared), then every controller's inputs. */
  dependencies(): DependencyEdge[] {
    const edges: DependencyEdge[] = [];
    const output = (controllerName: string, edgeType: DependencyEdge['edgeType'], resourceType: string) =>
      edges.push({ controllerName, edgeType, resourceNamespace: '', resourceType, resourceId: '' });
    for (const [type, name] of [...this.exclusive].sort(([x], [y]) => (x < y ? -1 : 1))) output(name, 'OUTPUT_EXCLUSIVE', type);
    for (const [type, names] of [...this.shared].sort(([x], [y]) => (x < y ? -1 : 1))) for (const name of names) output(name, 'OUTPUT_SHARED', type);
    for (const a of this.adapters.values()) {
      for (const i of a.inputs) {
        edges.push({ controllerName: a.controller.name, edgeType: inputEdge[i.kind], resourceNamespace: i.namespace, resourceType: i.type, resourceId: i.id ?? '' });
      }
    }
    return edges;
  }
}
