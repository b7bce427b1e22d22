import type { Logger } from 'pino';
import type { ListOptions } from '../state.js';
import type { Kind, NewResource, Pointer, Resource } from '../resource.js';
import type { UpdateOptions } from '../state.js';

/**
 * How a controller depends on an input: `weak` wakes it on changes; `strong` also means it puts finalizers on the
 * inputs it uses, so they are not destroyed under it; `destroyReady` (for its own outputs) wakes it when an output
 * being torn down has no finalizers left and may be destroyed.
 */
export type InputKind = 'weak' | 'strong' | 'destroyReady';

export interface Input {
  namespace: string;
  type: string;
  /** only this resource */
  id?: string;
  kind: InputKind;
}

/** `exclusive`: this controller is the only writer of the type; `shared`: several may write it, each its own. */
export type OutputKind = 'exclusive' | 'shared';

export interface Output {
  type: string;
  kind: OutputKind;
}

/** What a running controller sees of the runtime: wake-ups, reads, and writes as the owner of its outputs. */
export interface ControllerAdapter {
  /** yields once at start and once per burst of input changes */
  events(): AsyncIterable<void>;
  /** asks for another pass (e.g. after a transient failure it wants to retry soon) */
  queueReconcile(): void;
  /** a pass went well: the next failure restarts after the shortest backoff again */
  resetRestartBackoff(): void;
  /** replaces the watched inputs */
  updateInputs(inputs: Input[]): void;

  get<S = unknown>(ptr: Pointer): Promise<Resource<S>>;
  /** like get, but undefined when the resource does not exist */
  getOptional<S = unknown>(ptr: Pointer): Promise<Resource<S> | undefined>;
  list<S = unknown>(kind: Kind, opts?: ListOptions): Promise<Resource<S>[]>;

  create<S>(res: Resource<S> | NewResource<S>): Promise<Resource<S>>;
  update<S>(res: Resource<S>, opts?: Pick<UpdateOptions, 'expectedPhase'>): Promise<Resource<S>>;
  /** gets or creates an output and applies `fn` (synchronously: compute first); writes only when something changed */
  modify<S>(ptr: Pointer, emptySpec: () => S, fn: (r: Resource<S>) => void, opts?: Pick<UpdateOptions, 'expectedPhase'>): Promise<Resource<S>>;
  /** tears an output down; true when it has no finalizers and may be destroyed */
  teardown(ptr: Pointer): Promise<boolean>;
  destroy(ptr: Pointer): Promise<void>;
  addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void>;
  removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void>;

  /** starts a pass in which every output written is remembered */
  startTrackingOutputs(): void;
  /**
   * Ends the pass: outputs of these kinds (all output types when none given) that this controller owns and did not
   * write in the pass are torn down, and destroyed once nothing holds them.
   */
  cleanupOutputs(...kinds: Kind[]): Promise<void>;
}

export interface Controller {
  /** `area.NameController`, e.g. `network.HostnameSpecController` */
  readonly name: string;
  inputs(): Input[];
  outputs(): Output[];
  /** runs until `signal` aborts; a thrown error restarts it after a backoff */
  run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void>;
}
