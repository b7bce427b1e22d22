import type { Logger } from 'pino';
import type { Kind, NewResource, Pointer, Resource } from '../resource.js';
import type { ListOptions, Updater, UpdateOptions } from '../state.js';

/**
 * How a controller depends on an input: `weak` wakes it on changes; `strong` also lets it put finalizers on the
 * input, so the input is not destroyed before the controller lets go of it; `destroyReady` (for its own outputs)
 * wakes it when an output being torn down has no finalizers left and may be destroyed.
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

/**
 * What a running controller sees of the runtime: wake-ups, reads of its inputs and outputs, and writes of its
 * outputs as their owner. Reads of anything else, writes of anything but its outputs, and finalizers on anything
 * but its strong inputs are refused.
 */
export interface ControllerAdapter {
  /** yields once at start, once per burst of input changes, and once per queueReconcile(); ends when stopped */
  events(): AsyncIterable<void>;
  /** asks for another pass (e.g. to retry soon after a transient failure) */
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
  /** gets or creates an output and applies `fn`; writes only when something changed; returns it as stored */
  modify<S>(ptr: Pointer, emptySpec: () => S, fn: Updater<S>, opts?: Pick<UpdateOptions, 'expectedPhase'>): Promise<Resource<S>>;
  /** tears an output down; true when it has no finalizers and may be destroyed */
  teardown(ptr: Pointer): Promise<boolean>;
  destroy(ptr: Pointer): Promise<void>;
  addFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void>;
  removeFinalizer(ptr: Pointer, ...finalizers: string[]): Promise<void>;

  /** starts a pass in which every output written is remembered (a pass left without cleanup is forgotten) */
  startTrackingOutputs(): void;
  /**
   * Ends the pass: outputs of these kinds that this controller owns and did not write in the pass are torn down, and
   * destroyed once nothing holds them (their finalizers are gone). A good cleanup resets the restart backoff.
   */
  cleanupOutputs(...kinds: Kind[]): Promise<void>;
}

/** An edge of the controller dependency graph, as InspectService reports it. */
export interface DependencyEdge {
  controllerName: string;
  edgeType: 'OUTPUT_EXCLUSIVE' | 'OUTPUT_SHARED' | 'INPUT_STRONG' | 'INPUT_WEAK' | 'INPUT_DESTROY_READY';
  resourceNamespace: string;
  resourceType: string;
  resourceId: string;
}

export interface Controller {
  /** `area.NameController`, e.g. `network.HostnameSpecController` */
  readonly name: string;
  inputs(): Input[];
  outputs(): Output[];
  /** runs until `signal` aborts; a thrown error restarts it after a backoff, returning ends it for good */
  run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void>;
}
