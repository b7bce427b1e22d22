import type { Logger } from 'pino';
import type { Kind, Resource } from '../../resource.js';
import type { Controller, ControllerAdapter, Input, Output } from '../controller.js';

export interface TransformOptions<I, O, C = undefined> {
  name: string;
  input: Kind;
  /** outputs go to this namespace and type */
  output: Kind;
  emptySpec(): O;
  /** the output ID for an input, or undefined to make no output for it */
  mapID(input: Resource<I>): string | undefined;
  /** fills the output from the input (synchronously; `context` comes from `prepare`) */
  transform(input: Resource<I>, output: Resource<O>, context: C): void;
  /** inputs get this controller's finalizer, so they cannot be destroyed before their outputs are */
  strong?: boolean;
  /** other inputs whose changes should rerun the transform (read by `prepare`) */
  extraInputs?: Input[];
  /** reads what every transform of a pass needs, e.g. a config resource */
  prepare?(r: ControllerAdapter): Promise<C>;
  outputKind?: Output['kind'];
}

/**
 * The 1:1 transform: one output per input, kept in step with it. Outputs of inputs that disappear or are torn down
 * are torn down and destroyed; with `strong`, an input keeps this controller's finalizer until its output is gone.
 */
export class TransformController<I, O, C = undefined> implements Controller {
  readonly name: string;

  constructor(private readonly o: TransformOptions<I, O, C>) {
    this.name = o.name;
  }

  inputs(): Input[] {
    return [
      { ...this.o.input, kind: this.o.strong ? 'strong' : 'weak' },
      { ...this.o.output, kind: 'destroyReady' },
      ...(this.o.extraInputs ?? []),
    ];
  }

  outputs(): Output[] {
    return [{ type: this.o.output.type, kind: this.o.outputKind ?? 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const context = (this.o.prepare ? await this.o.prepare(r) : undefined) as C;
      const inputs = await r.list<I>(this.o.input);
      const released: Resource<I>[] = [];
      r.startTrackingOutputs();
      for (const input of inputs) {
        const id = this.o.mapID(input);
        if (input.metadata.phase === 'tearingDown') {
          // not tracked: the cleanup below tears its output down
          if (this.o.strong && input.metadata.finalizers.includes(this.name)) released.push(input);
          continue;
        }
        if (id === undefined) continue;
        if (this.o.strong && !input.metadata.finalizers.includes(this.name)) await r.addFinalizer(input.metadata, this.name);
        await r.modify<O>({ ...this.o.output, id }, this.o.emptySpec, (out) => this.o.transform(input, out, context));
      }
      await r.cleanupOutputs(this.o.output);
      // an input being torn down is released once its output is gone
      for (const input of released) {
        const id = this.o.mapID(input);
        const out = id === undefined ? undefined : await r.getOptional({ ...this.o.output, id });
        if (!out || out.metadata.owner !== this.name) await r.removeFinalizer(input.metadata, this.name);
      }
      r.resetRestartBackoff();
    }
  }
}
