import type { Logger } from 'pino';
import { isConflict } from '../../errors.js';
import type { Kind, Resource } from '../../resource.js';
import type { Controller, ControllerAdapter, Input, Output } from '../controller.js';

export interface MergeOptions<I, O> {
  name: string;
  input: Kind;
  output: Kind;
  emptySpec(): O;
  /** the output an input contributes to (undefined: none) */
  group(input: Resource<I>): string | undefined;
  /**
   * Builds an output from every running input of its group, in ID order (e.g. takes the one from the highest config
   * layer, or merges them layer by layer).
   */
  merge(inputs: Resource<I>[], output: Resource<O>, log: Logger): void | Promise<void>;
  extraInputs?: Input[];
}

/**
 * The merge shape: many inputs (configs from the kernel command line, the machine config, DHCP...) become one output
 * per group. Outputs whose group has no inputs left are torn down and destroyed once nothing holds them.
 */
export class MergeController<I, O> implements Controller {
  readonly name: string;

  constructor(private readonly o: MergeOptions<I, O>) {
    this.name = o.name;
  }

  inputs(): Input[] {
    return [{ ...this.o.input, kind: 'weak' }, { ...this.o.output, kind: 'destroyReady' }, ...(this.o.extraInputs ?? [])];
  }

  outputs(): Output[] {
    return [{ type: this.o.output.type, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const groups = new Map<string, Resource<I>[]>();
      for (const input of await r.list<I>(this.o.input)) {
        if (input.metadata.phase !== 'running') continue;
        const g = this.o.group(input);
        if (g === undefined) continue;
        let list = groups.get(g);
        if (!list) groups.set(g, (list = []));
        list.push(input);
      }
      r.startTrackingOutputs();
      for (const [id, inputs] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        try {
          await r.modify<O>({ ...this.o.output, id }, this.o.emptySpec, (out) => this.o.merge(inputs, out, log));
        } catch (e) {
          // an output being torn down is recreated once it is gone
          if (!isConflict(e)) throw e;
        }
      }
      await r.cleanupOutputs(this.o.output);
    }
  }
}
