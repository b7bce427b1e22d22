import type { Logger } from 'pino';
import type { Kind, Resource } from '../../resource.js';
import type { Controller, ControllerAdapter, Input, Output } from '../controller.js';

export interface MergeOptions<I, O> {
  name: string;
  input: Kind;
  output: Kind;
  emptySpec(): O;
  /** which output an input contributes to (undefined: none) */
  group(input: Resource<I>): string | undefined;
  /** builds an output from all inputs of its group (e.g. the one from the highest config layer) */
  merge(inputs: Resource<I>[], output: Resource<O>): void;
  extraInputs?: Input[];
}

/**
 * The merge shape: many inputs (e.g. configs from the kernel command line, the machine config and DHCP) become one
 * output per group. Outputs whose group has no inputs left are torn down and destroyed.
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

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const groups = new Map<string, Resource<I>[]>();
      for (const input of await r.list<I>(this.o.input)) {
        if (input.metadata.phase !== 'running') continue;
        const g = this.o.group(input);
        if (g === undefined) continue;
        groups.set(g, [...(groups.get(g) ?? []), input]);
      }
      r.startTrackingOutputs();
      for (const [id, inputs] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
        await r.modify<O>({ ...this.o.output, id }, this.o.emptySpec, (out) => this.o.merge(inputs, out));
      }
      await r.cleanupOutputs(this.o.output);
      r.resetRestartBackoff();
    }
  }
}
