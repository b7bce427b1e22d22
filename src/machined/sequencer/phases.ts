import type { Logger } from 'pino';
import type { SequenceName } from './sequence.js';

/** What a task gets: a signal that aborts when the sequence is canceled or a sibling task failed. */
export interface TaskContext<D = unknown> {
  signal: AbortSignal;
  logger?: Logger;
  sequence: SequenceName;
  /** the request that started the sequence (RebootRequest, ShutdownRequest, reset options...) */
  data: D;
}

export type TaskFn<D = unknown> = (ctx: TaskContext<D>) => Promise<void>;

/** A named task; the name is what TaskEvents carry (`startAllServices`, `loadConfig`...). */
export interface Task<D = unknown> {
  name: string;
  run: TaskFn<D>;
}

/** Tasks that run concurrently; phases run one after another. */
export interface Phase<D = unknown> {
  name: string;
  tasks: Task<D>[];
  /** evaluated when the phase is reached; false skips it (Talos's AppendWithDeferredCheck) */
  check?: () => boolean;
}

/** Builds phase lists as Talos's PhaseList does. Undefined tasks are left out (a task that does not apply here). */
export class PhaseList<D = unknown> {
  readonly phases: Phase<D>[] = [];

  append(name: string, ...tasks: (Task<D> | undefined)[]): this {
    this.phases.push({ name, tasks: tasks.filter((t): t is Task<D> => t !== undefined) });
    return this;
  }

  /** Appends only when `when` holds now. */
  appendWhen(when: boolean, name: string, ...tasks: (Task<D> | undefined)[]): this {
    return when ? this.append(name, ...tasks) : this;
  }

  /** Appends a phase that runs only if `check` holds when it is reached. */
  appendWithDeferredCheck(check: () => boolean, name: string, ...tasks: (Task<D> | undefined)[]): this {
    this.phases.push({ name, tasks: tasks.filter((t): t is Task<D> => t !== undefined), check });
    return this;
  }

  appendList(other: PhaseList<D>): this {
    this.phases.push(...other.phases);
    return this;
  }
}
