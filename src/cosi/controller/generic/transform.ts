import type { Logger } from 'pino';
import { isConflict } from '../../errors.js';
import type { Kind, Resource } from '../../resource.js';
import type { ListOptions } from '../../state.js';
import type { Controller, ControllerAdapter, Input, Output } from '../controller.js';

export interface TransformOptions<I, O, C = undefined> {
  name: string;
  input: Kind;
  /** outputs go to this namespace and type */
  output: Kind;
  emptySpec(): O;
  /** the output ID for an input, or undefined for no output */
  mapID(input: Resource<I>): string | undefined;
  /** fills the output from the input; `context` is what `prepare` read for this pass */
  transform(input: Resource<I>, output: Resource<O>, context: C, r: ControllerAdapter, log: Logger): void | Promise<void>;
  /** reads what every transform of a pass needs (e.g. a config resource); runs first in each pass */
  prepare?(r: ControllerAdapter, log: Logger): Promise<C>;
  /**
   * Put this controller's finalizer on the inputs (a strong input), so an input is destroyed only after its output:
   * when an input is torn down, its output is torn down and destroyed, then the finalizer is removed.
   */
  inputFinalizers?: boolean;
  /** with inputFinalizers: runs before the finalizer of an input being torn down is released (e.g. undo effects) */
  finalizerRemoval?(input: Resource<I>, r: ControllerAdapter, log: Logger): Promise<void>;
  /** keep transforming inputs that are being torn down, rather than tearing their outputs down */
  ignoreTearingDownInputs?: boolean;
  /** a filter on the inputs listed each pass */
  inputList?: ListOptions;
  /** more inputs whose changes rerun the pass (read by `prepare` or `transform`) */
  extraInputs?: Input[];
  /** more outputs `transform` may write */
  extraOutputs?: Output[];
  /** the kind of the primary output (default exclusive) */
  outputKind?: Output['kind'];
}

/**
 * The 1:1 transform (COSI's generic transform controller): one output per input, kept in step with it. Outputs of
 * inputs that disappear, are torn down or map to nothing are torn down and destroyed once nothing holds them.
 * Failures of single inputs do not stop the pass; they fail it at its end, so the runtime retries with backoff.
 */
export class TransformController<I, O, C = undefined> implements Controller {
  readonly name: string;

  constructor(private readonly o: TransformOptions<I, O, C>) {
    this.name = o.name;
  }

  inputs(): Input[] {
    return [{ ...this.o.input, kind: this.o.inputFinalizers ? 'strong' : 'weak' }, { ...this.o.output, kind: 'destroyReady' }, ...(this.o.extraInputs ?? [])];
  }

  outputs(): Output[] {
    return [{ type: this.o.output.type, kind: this.o.outputKind ?? 'exclusive' }, ...(this.o.extraOutputs ?? [])];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    const o = this.o;
    for await (const _ of r.events()) {
      const errors: unknown[] = [];
      const context = (o.prepare ? await o.prepare(r, log) : undefined) as C;
      const touched = new Set<string>();
      /** inputs being torn down whose finalizer goes once their output is gone, by output ID */
      const release = new Map<string, Resource<I>>();
      for (const input of await r.list<I>(o.input, o.inputList)) {
        const id = o.mapID(input);
        if (id === undefined) continue;
        if (!o.ignoreTearingDownInputs && input.metadata.phase === 'tearingDown') {
          if (!o.inputFinalizers || !input.metadata.finalizers.includes(this.name)) continue;
          try {
            await o.finalizerRemoval?.(input, r, log);
            release.set(id, input);
          } catch (e) {
            errors.push(e);
            touched.add(id);
          }
          continue;
        }
        touched.add(id);
        try {
          if (o.inputFinalizers && !input.metadata.finalizers.includes(this.name)) await r.addFinalizer(input.metadata, this.name);
          await r.modify<O>({ ...o.output, id }, o.emptySpec, (out) => o.transform(input, out, context, r, log));
        } catch (e) {
          // an output someone else owns (or one being torn down) is left alone
          if (isConflict(e)) continue;
          errors.push(new Error(`transforming ${input.metadata.type}(${input.metadata.namespace}/${input.metadata.id}): ${(e as Error).message}`, { cause: e }));
        }
      }
      for (const out of await r.list<O>(o.output)) {
        const id = out.metadata.id;
        const mine = out.metadata.owner === this.name;
        if (!mine || (out.metadata.phase !== 'tearingDown' && touched.has(id))) {
          release.delete(id);
          continue;
        }
        try {
          const ready = await r.teardown(out.metadata);
          if (ready) await r.destroy(out.metadata);
          else release.delete(id);
        } catch (e) {
          release.delete(id);
          errors.push(e);
        }
      }
      // the outputs of these inputs are gone (or never existed): let the inputs go
      for (const input of release.values()) {
        try {
          await r.removeFinalizer(input.metadata, this.name);
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${this.name}: ${errors.length} errors: ${errors.map((e) => (e as Error).message).join('; ')}`);
      r.resetRestartBackoff();
    }
  }
}
