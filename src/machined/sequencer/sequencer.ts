import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Code } from '../../api/gen/common/common.js';
import { PhaseEvent_Action, SequenceEvent_Action, TaskEvent_Action } from '../../api/gen/machine/machine.js';
import { withActor, type EventStream } from '../events/index.js';
import { SequencerError, isRebootRequested } from './errors.js';
import type { Phase, Task } from './phases.js';
import { PriorityLock, type LockOptions } from './priority-lock.js';
import type { SequenceName } from './sequence.js';

/** Builds the phases of a sequence for the request data it was started with. */
export type SequenceBuilder = (data: unknown) => Phase<unknown>[];

/** The sequences this node knows; a sequence without a builder answers "sequence not implemented". */
export type SequenceDefinitions = Partial<Record<SequenceName, SequenceBuilder>>;

export interface SequencerOptions {
  events?: EventStream;
  logger?: Logger;
  definitions: SequenceDefinitions;
  /** how long a take-over waits for the preempted sequence, ms (default 60 000) */
  takeoverTimeout?: number;
}

export interface RunOptions {
  /** preempt regardless of the take-over table */
  takeover?: boolean;
  /** events of this run carry this actor id (API calls pass a fresh UUID) */
  actorId?: string;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs sequences (Talos's runtime controller): one at a time under the priority lock, phase after phase, the
 * tasks of a phase concurrently (the first failure cancels its siblings and fails the sequence). Emits
 * SequenceEvent START/STOP, PhaseEvent and TaskEvent START/STOP, a NOOP SequenceEvent with LOCKED when refused and
 * with FATAL or CANCELED when a sequence fails, and logs Talos's progress lines.
 */
export class Sequencer {
  private readonly lock = new PriorityLock();
  private readonly opts: SequencerOptions;

  constructor(opts: SequencerOptions) {
    this.opts = opts;
  }

  /** The sequence holding the lock, or 'noop'. */
  get running(): SequenceName {
    return this.lock.current;
  }

  /**
   * Cancels the running sequence, if any, and waits until it has let go of the lock (machined does this before it
   * exits). Returns the name of the sequence that was canceled.
   */
  async cancel(): Promise<SequenceName | undefined> {
    const canceled = this.lock.cancelRunning();
    await this.lock.idle();
    return canceled;
  }

  private publishSequence(sequence: SequenceName, action: SequenceEvent_Action, error?: { code: Code; message: string }): void {
    this.opts.events?.publish('machine.SequenceEvent', { sequence, action, error: error ? { ...error, details: [] } : undefined });
  }

  /**
   * Runs a sequence to its end. Rejects with BRONZE_SEQUENCER_LOCKED when another sequence holds the lock and may
   * not be preempted, with the failure of a task (after publishing it), or with RebootRequested when the sequence
   * ends by asking for a reboot/power-off.
   */
  run(sequence: SequenceName, data?: unknown, opts: RunOptions = {}): Promise<void> {
    const go = () => this.runLocked(sequence, data, opts);
    return opts.actorId !== undefined ? withActor(opts.actorId, go) : go();
  }

  /**
   * Starts a sequence in the background, as the API handlers do, and returns its actor id at once; the outcome is
   * logged (and, for failures, published) but not returned.
   */
  start(sequence: SequenceName, data?: unknown, opts: Omit<RunOptions, 'actorId'> = {}): { actorId: string; done: Promise<void> } {
    const actorId = randomUUID();
    const done = this.run(sequence, data, { ...opts, actorId }).catch((e) => {
      if (isRebootRequested(e)) return;
      this.opts.logger?.error({ sequence, err: messageOf(e) }, `${sequence} sequence: ${messageOf(e)}`);
    });
    return { actorId, done };
  }

  private async runLocked(sequence: SequenceName, data: unknown, opts: RunOptions): Promise<void> {
    const lockOpts: LockOptions = { takeover: opts.takeover, timeout: this.opts.takeoverTimeout };
    let held;
    try {
      held = await this.lock.lock(sequence, lockOpts);
    } catch (e) {
      if (e instanceof SequencerError && e.code === 'BRONZE_SEQUENCER_LOCKED') {
        this.publishSequence(sequence, SequenceEvent_Action.NOOP, { code: Code.LOCKED, message: 'sequence not started: locked' });
      }
      throw e;
    }
    try {
      let phases: Phase<unknown>[];
      if (sequence === 'noop') phases = [];
      else {
        const builder = this.opts.definitions[sequence];
        if (!builder) throw new SequencerError('BRONZE_SEQUENCER_NOT_IMPLEMENTED', `sequence not implemented: ${JSON.stringify(sequence)}`);
        phases = builder(data);
      }
      try {
        await this.runPhases(sequence, phases, data, held.signal);
      } catch (e) {
        if (isRebootRequested(e)) throw e;
        const canceled = held.signal.aborted || (e instanceof SequencerError && e.code === 'BRONZE_SEQUENCER_CANCELED');
        this.publishSequence(sequence, SequenceEvent_Action.NOOP, { code: canceled ? Code.CANCELED : Code.FATAL, message: `sequence failed: ${messageOf(e)}` });
        if (e instanceof SequencerError) throw e;
        throw new SequencerError(canceled ? 'BRONZE_SEQUENCER_CANCELED' : 'BRONZE_SEQUENCER_FAILED', messageOf(e), { cause: e });
      }
    } finally {
      held.release();
    }
  }

  private async runPhases(sequence: SequenceName, phases: Phase<unknown>[], data: unknown, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger;
    this.publishSequence(sequence, SequenceEvent_Action.START);
    const started = performance.now();
    log?.info(`${sequence} sequence: ${phases.length} phase(s)`);
    try {
      for (let i = 0; i < phases.length; i++) {
        const phase = phases[i];
        if (phase.check && !phase.check()) continue;
        const progress = `${i + 1}/${phases.length}`;
        const phaseStart = performance.now();
        log?.info(`phase ${phase.name} (${progress}): ${phase.tasks.length} tasks(s)`);
        try {
          await this.runPhase(sequence, phase, data, signal);
        } catch (e) {
          if (!isRebootRequested(e)) log?.info(`phase ${phase.name} (${progress}): failed`);
          if (isRebootRequested(e)) throw e;
          throw new SequencerError(signal.aborted ? 'BRONZE_SEQUENCER_CANCELED' : 'BRONZE_SEQUENCER_FAILED', `error running phase ${i + 1} in ${sequence} sequence: ${messageOf(e)}`, { cause: e });
        }
        log?.info(`phase ${phase.name} (${progress}): done, ${elapsed(phaseStart)}`);
        if (signal.aborted) throw new SequencerError('BRONZE_SEQUENCER_CANCELED', 'context canceled');
      }
      log?.info(`${sequence} sequence: done: ${elapsed(started)}`);
    } catch (e) {
      if (!isRebootRequested(e)) log?.info(`${sequence} sequence: failed`);
      throw e;
    } finally {
      this.publishSequence(sequence, SequenceEvent_Action.STOP);
    }
  }

  private async runPhase(sequence: SequenceName, phase: Phase<unknown>, data: unknown, outer: AbortSignal): Promise<void> {
    this.opts.events?.publish('machine.PhaseEvent', { phase: phase.name, action: PhaseEvent_Action.START });
    // errgroup: the first failing task cancels its siblings; the phase waits for all of them
    const group = new AbortController();
    const onOuter = () => group.abort(outer.reason);
    if (outer.aborted) group.abort(outer.reason);
    else outer.addEventListener('abort', onOuter, { once: true });
    let first: unknown;
    let failed = false;
    try {
      await Promise.all(
        phase.tasks.map(async (task, i) => {
          try {
            await this.runTask(sequence, task, `${i + 1}/${phase.tasks.length}`, data, group.signal);
          } catch (e) {
            if (!failed) {
              failed = true;
              first = new Error(`task ${i + 1}/${phase.tasks.length}: failed, ${messageOf(e)}`, { cause: e });
              if (isRebootRequested(e)) first = e;
              group.abort(first);
            }
          }
        }),
      );
      if (failed) throw first;
    } finally {
      outer.removeEventListener('abort', onOuter);
      this.opts.events?.publish('machine.PhaseEvent', { phase: phase.name, action: PhaseEvent_Action.STOP });
    }
  }

  private async runTask(sequence: SequenceName, task: Task<unknown>, progress: string, data: unknown, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger;
    const started = performance.now();
    this.opts.events?.publish('machine.TaskEvent', { task: task.name, action: TaskEvent_Action.START });
    log?.info(`task ${task.name} (${progress}): starting`);
    try {
      await task.run({ signal, sequence, data, logger: log?.child({ task: task.name }) });
      log?.info(`task ${task.name} (${progress}): done, ${elapsed(started)}`);
    } catch (e) {
      if (!isRebootRequested(e)) log?.info(`task ${task.name} (${progress}): failed: ${messageOf(e)}`);
      throw e;
    } finally {
      this.opts.events?.publish('machine.TaskEvent', { task: task.name, action: TaskEvent_Action.STOP });
    }
  }
}

function elapsed(since: number): string {
  const ms = performance.now() - since;
  return ms < 1000 ? `${ms.toFixed(3)}ms` : `${(ms / 1000).toFixed(3)}s`;
}
