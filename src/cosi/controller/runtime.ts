import type { Logger } from 'pino';
import { StateError } from '../errors.js';
import { type Kind, type NewResource, type Pointer, pointerString, type Resource } from '../resource.js';
import type { ListOptions, State, StateEvent, UpdateOptions } from '../state.js';
import type { Controller, ControllerAdapter, Input, Output } from './controller.js';

export interface RuntimeOptions {
  /** first restart delay after a controller fails (default 100 ms), doubling up to `backoffMaxMs` */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** called on every controller failure (after logging it) */
  onError?(controller: string, err: unknown): void;
}

/** An edge of the controller dependency graph, as InspectService reports it. */
export interface DependencyEdge {
  controllerName: string;
  edgeType: 'OUTPUT_EXCLUSIVE' | 'OUTPUT_SHARED' | 'INPUT_STRONG' | 'INPUT_WEAK' | 'INPUT_DESTROY_READY';
  resourceNamespace: string;
  resourceType: string;
  resourceId: string;
}

export interface ControllerStats {
  /** passes started (wake-ups delivered) */
  wakeups: number;
  /** restarts after failures */
  restarts: number;
  /** the last failure, if any */
  lastError?: string;
}

const kindKey = (k: Kind) => `${k.namespace}\u0000${k.type}`;

/** Waits `ms` or until `signal` aborts, leaving no listener behind. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** One controller's view of the runtime. */
class Adapter implements ControllerAdapter {
  inputs: Input[];
  readonly outputs: Output[];
  private dirty = true;
  private waiter: (() => void) | undefined;
  backoff: number;
  private tracked: Set<string> | undefined;
  readonly stats: ControllerStats = { wakeups: 0, restarts: 0 };

  constructor(
    readonly controller: Controller,
    private readonly state: State,
    private readonly rt: ControllerRuntime,
    readonly backoffBase: number,
    private readonly signal: AbortSignal,
  ) {
    this.inputs = controller.inputs();
    this.outputs = controller.outputs();
    this.backoff = backoffBase;
    // one listener for the adapter's whole life: a stop wakes a waiting controller so it can return
    signal.addEventListener('abort', () => this.trigger(), { once: true });
  }

  private get owner(): string {
    return this.controller.name;
  }

  /** Marks the controller for another pass (one pending mark absorbs any number of changes). */
  trigger(): void {
    this.dirty = true;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w();
    }
  }

  /** Whether an event on `kind` concerns one of this controller's inputs. */
  wants(ev: StateEvent, kind: Kind): boolean {
    const r = ev.resource;
    for (const i of this.inputs) {
      if (i.namespace !== kind.namespace || i.type !== kind.type) continue;
      if (i.id !== undefined && r?.metadata.id !== i.id) continue;
      if (i.kind === 'destroyReady') {
        if (r && r.metadata.phase === 'tearingDown' && r.metadata.finalizers.length === 0 && r.metadata.owner === this.owner) return true;
        continue;
      }
      return true;
    }
    return false;
  }

  async *events(): AsyncIterable<void> {
    while (!this.signal.aborted) {
      if (!this.dirty) {
        await new Promise<void>((resolve) => (this.waiter = resolve));
        if (this.signal.aborted) return;
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
    this.backoff = this.backoffBase;
  }

  updateInputs(inputs: Input[]): void {
    this.inputs = inputs;
    this.rt.ensureWatches(inputs);
    this.trigger();
  }

  private checkOutput(type: string): void {
    if (!this.outputs.some((o) => o.type === type)) {
      throw new StateError('BRONZE_COSI_OUTPUT_NOT_DECLARED', `controller ${this.owner} does not declare ${type} as an output`);
    }
  }

  private track(ptr: Pointer): void {
    this.tracked?.add(pointerString(ptr));
  }

  get<S>(ptr: Pointer): Promise<Resource<S>> {
    return this.state.get(ptr) as Promise<Resource<S>>;
  }

  async getOptional<S>(ptr: Pointer): Promise<Resource<S> | undefined> {
    try {
      return (await this.state.get(ptr)) as Resource<S>;
    } catch (e) {
      if (e instanceof StateError && e.code === 'BRONZE_COSI_NOT_FOUND') return undefined;
      throw e;
    }
  }

  list<S>(kind: Kind, opts?: ListOptions): Promise<Resource<S>[]> {
    return this.state.list(kind, opts) as Promise<Resource<S>[]>;
  }

  async create<S>(res: Resource<S> | NewResource<S>): Promise<Resource<S>> {
    this.checkOutput(res.metadata.type);
    this.track(res.metadata);
    return (await this.state.create(res, { owner: this.owner })) as Resource<S>;
  }

  async update<S>(res: Resource<S>, opts: Pick<UpdateOptions, 'expectedPhase'> = {}): Promise<Resource<S>> {
    this.checkOutput(res.metadata.type);
    this.track(res.metadata);
    return (await this.state.update(res, { ...opts, owner: this.owner })) as Resource<S>;
  }

  async modify<S>(ptr: Pointer, emptySpec: () => S, fn: (r: Resource<S>) => void, opts: Pick<UpdateOptions, 'expectedPhase'> = {}): Promise<Resource<S>> {
    this.checkOutput(ptr.type);
    this.track(ptr);
    return this.state.modify<S>(ptr, emptySpec, fn, { ...opts, owner: this.owner });
  }

  async teardown(ptr: Pointer): Promise<boolean> {
    this.checkOutput(ptr.type);
    return this.state.teardown(ptr, { owner: this.owner });
  }

  async destroy(ptr: Pointer): Promise<void> {
    this.checkOutput(ptr.type);
    await this.state.destroy(ptr, { owner: this.owner });
  }

  addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    return this.state.addFinalizer(ptr, ...finalizers);
  }

  removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void> {
    return this.state.removeFinalizer(ptr, ...finalizers);
  }

  startTrackingOutputs(): void {
    this.tracked = new Set();
  }

  async cleanupOutputs(...kinds: Kind[]): Promise<void> {
    const tracked = this.tracked;
    if (!tracked) throw new StateError('BRONZE_COSI_INVALID', `controller ${this.owner}: cleanupOutputs without startTrackingOutputs`);
    this.tracked = undefined;
    if (kinds.length === 0) throw new StateError('BRONZE_COSI_INVALID', `controller ${this.owner}: cleanupOutputs needs the output kinds to clean`);
    for (const kind of kinds) {
      this.checkOutput(kind.type);
      for (const r of await this.state.list(kind)) {
        if (r.metadata.owner !== this.owner || tracked.has(pointerString(r.metadata))) continue;
        const ready = r.metadata.phase === 'tearingDown' ? r.metadata.finalizers.length === 0 : await this.state.teardown(r.metadata, { owner: this.owner });
        if (ready) await this.state.destroy(r.metadata, { owner: this.owner });
      }
    }
  }
}

/**
 * Runs controllers over a state: each declares inputs and outputs, is woken (once per burst) when an input changes,
 * writes only its declared outputs, and is restarted with exponential backoff when it fails.
 */
export class ControllerRuntime {
  private readonly adapters: Adapter[] = [];
  private readonly watches = new Map<string, Kind>();
  private readonly exclusive = new Map<string, string>();
  private readonly shared = new Map<string, string[]>();
  private readonly backoffBase: number;
  private readonly backoffMax: number;
  private readonly onError: RuntimeOptions['onError'];
  private ac: AbortController | undefined;
  private running: Promise<unknown>[] = [];

  constructor(
    private readonly state: State,
    private readonly log: Logger,
    opts: RuntimeOptions = {},
  ) {
    this.backoffBase = opts.backoffBaseMs ?? 100;
    this.backoffMax = opts.backoffMaxMs ?? 30_000;
    this.onError = opts.onError;
  }

  /** Adds a controller; refused when it claims an exclusive output another controller writes. */
  register(c: Controller): void {
    if (this.ac) throw new StateError('BRONZE_COSI_INVALID', `cannot register ${c.name}: the runtime is running`);
    if (this.adapters.some((a) => a.controller.name === c.name)) throw new StateError('BRONZE_COSI_INVALID', `controller ${c.name} is already registered`);
    for (const o of c.outputs()) {
      const ex = this.exclusive.get(o.type);
      if (ex) throw new StateError('BRONZE_COSI_INVALID', `controller ${c.name}: ${o.type} is already an exclusive output of ${ex}`);
      if (o.kind === 'exclusive' && this.shared.has(o.type)) {
        throw new StateError('BRONZE_COSI_INVALID', `controller ${c.name}: ${o.type} is already a shared output of ${this.shared.get(o.type)!.join(', ')}`);
      }
    }
    for (const o of c.outputs()) {
      if (o.kind === 'exclusive') this.exclusive.set(o.type, c.name);
      else this.shared.set(o.type, [...(this.shared.get(o.type) ?? []), c.name]);
    }
    this.adapters.push(new Adapter(c, this.state, this, this.backoffBase, new AbortController().signal));
  }

  /** Starts every controller; they run until stop(). */
  start(): void {
    if (this.ac) return;
    this.ac = new AbortController();
    const signal = this.ac.signal;
    // adapters are rebuilt with the run's signal
    const registered = this.adapters.splice(0).map((a) => a.controller);
    for (const c of registered) this.adapters.push(new Adapter(c, this.state, this, this.backoffBase, signal));
    for (const a of this.adapters) this.ensureWatches(a.inputs);
    for (const a of this.adapters) this.running.push(this.runController(a, signal));
  }

  async stop(): Promise<void> {
    this.ac?.abort();
    await Promise.allSettled(this.running);
    this.running = [];
    this.ac = undefined;
    this.watches.clear();
  }

  /** Watches every input kind once for all controllers. */
  ensureWatches(inputs: Input[]): void {
    const signal = this.ac?.signal;
    if (!signal) return;
    for (const i of inputs) {
      const key = kindKey(i);
      if (this.watches.has(key)) continue;
      const kind = { namespace: i.namespace, type: i.type };
      this.watches.set(key, kind);
      this.running.push(this.watchKind(kind, signal));
    }
  }

  private async watchKind(kind: Kind, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        batches: for await (const batch of this.state.watchKindAggregated(kind, {}, signal)) {
          for (const ev of batch) {
            if (ev.type === 'errored') {
              // the watch fell behind: wake everyone watching this kind, they re-read it
              this.log.warn({ kind, err: ev.error }, 'controller runtime watch failed, restarting it');
              for (const a of this.adapters) if (a.inputs.some((i) => i.namespace === kind.namespace && i.type === kind.type)) a.trigger();
              break batches;
            }
            for (const a of this.adapters) if (a.wants(ev, kind)) a.trigger();
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        this.log.error({ kind, err: (e as Error).message }, 'controller runtime watch error');
        await sleep(this.backoffBase, signal);
      }
    }
  }

  private async runController(a: Adapter, signal: AbortSignal): Promise<void> {
    const log = this.log.child({ controller: a.controller.name });
    while (!signal.aborted) {
      try {
        await a.controller.run(a, signal, log);
        if (signal.aborted) return;
        log.debug('controller finished');
        return;
      } catch (e) {
        if (signal.aborted) return;
        const msg = e instanceof Error ? e.message : String(e);
        a.stats.restarts++;
        a.stats.lastError = msg;
        const delay = a.backoff * (0.8 + Math.random() * 0.4);
        log.error({ err: msg, restartInMs: Math.round(delay) }, 'controller failed');
        this.onError?.(a.controller.name, e);
        await sleep(delay, signal);
        a.backoff = Math.min(a.backoff * 2, this.backoffMax);
        a.trigger();
      }
    }
  }

  stats(name: string): ControllerStats | undefined {
    return this.adapters.find((a) => a.controller.name === name)?.stats;
  }

  /** The dependency graph: every controller's inputs and outputs. */
  dependencies(): DependencyEdge[] {
    const edges: DependencyEdge[] = [];
    for (const a of this.adapters) {
      const c = a.controller;
      for (const i of a.inputs) {
        edges.push({
          controllerName: c.name,
          edgeType: i.kind === 'strong' ? 'INPUT_STRONG' : i.kind === 'weak' ? 'INPUT_WEAK' : 'INPUT_DESTROY_READY',
          resourceNamespace: i.namespace,
          resourceType: i.type,
          resourceId: i.id ?? '',
        });
      }
      for (const o of a.outputs) {
        edges.push({ controllerName: c.name, edgeType: o.kind === 'exclusive' ? 'OUTPUT_EXCLUSIVE' : 'OUTPUT_SHARED', resourceNamespace: '', resourceType: o.type, resourceId: '' });
      }
    }
    return edges;
  }
}

/** The dependency graph in graphviz dot: controllers as boxes, resource types as ellipses. */
export function dependencyGraphDot(edges: DependencyEdge[], opts: { withResources?: boolean } = {}): string {
  const lines = ['digraph {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  const q = (s: string) => JSON.stringify(s);
  const controllers = new Set(edges.map((e) => e.controllerName));
  for (const c of [...controllers].sort()) lines.push(`  ${q(c)} [shape=box, style=filled, fillcolor="#d0e4f5"];`);
  if (opts.withResources !== false) {
    const types = new Set(edges.map((e) => e.resourceType));
    for (const t of [...types].sort()) lines.push(`  ${q(t)} [shape=ellipse];`);
    for (const e of edges) {
      const label = e.resourceId ? ` [label=${q(e.resourceId)}]` : '';
      if (e.edgeType.startsWith('OUTPUT')) lines.push(`  ${q(e.controllerName)} -> ${q(e.resourceType)}${e.edgeType === 'OUTPUT_SHARED' ? ' [style=dashed]' : ''};`);
      else lines.push(`  ${q(e.resourceType)} -> ${q(e.controllerName)}${label}${e.edgeType === 'INPUT_WEAK' ? ' [style=dotted]' : e.edgeType === 'INPUT_DESTROY_READY' ? ' [color=red]' : ''};`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
