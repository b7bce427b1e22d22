import { delay } from './health.js';
import { messageOf } from './errors.js';
import type { Runner, RunnerHooks } from './runner.js';
import { ServiceState } from './state.js';

/** Restart policies, as Talos names them. */
export type RestartPolicy = 'Forever' | 'Once' | 'UntilSuccess';

export interface RestartOptions {
  policy?: RestartPolicy;
  /** first delay between runs, ms (default 5000, Talos's restart interval) */
  initialDelay?: number;
  /** the delay doubles after each quick failure up to this, ms (default 60 000) */
  maxDelay?: number;
  /** a run that lasted at least this long resets the delay to `initialDelay`, ms (default 60 000) */
  stableAfter?: number;
  /** clock, ms (default Date.now) */
  now?: () => number;
  /** waits `ms` or until the signal aborts (default a timer); tests inject a recording one */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Wraps a runner with a restart policy: Forever restarts after any end, UntilSuccess after failures, Once never.
 * Between runs it waits with exponential backoff, which resets after a run that stayed up `stableAfter`.
 */
export class RestartRunner implements Runner {
  readonly policy: RestartPolicy;
  private readonly inner: Runner;
  private readonly opts: Required<Omit<RestartOptions, 'policy'>>;
  private stopAc?: AbortController;
  private running?: Promise<void>;
  /** delays waited so far in the current run() (for status and tests) */
  readonly delays: number[] = [];

  constructor(inner: Runner, opts: RestartOptions = {}) {
    this.inner = inner;
    this.policy = opts.policy ?? 'Forever';
    this.opts = {
      initialDelay: opts.initialDelay ?? 5000,
      maxDelay: opts.maxDelay ?? 60_000,
      stableAfter: opts.stableAfter ?? 60_000,
      now: opts.now ?? Date.now,
      sleep: opts.sleep ?? delay,
    };
  }

  toString(): string {
    return `Restart(${this.policy}, ${this.inner})`;
  }

  run(hooks: RunnerHooks): Promise<void> {
    const ac = new AbortController();
    this.stopAc = ac;
    const p = this.loop(hooks, ac.signal);
    this.running = p;
    return p.finally(() => {
      if (this.running === p) this.running = undefined;
    });
  }

  private async loop(hooks: RunnerHooks, stop: AbortSignal): Promise<void> {
    let backoff = this.opts.initialDelay;
    this.delays.length = 0;
    while (true) {
      const started = this.opts.now();
      let error: unknown;
      let failed = false;
      try {
        await this.inner.run(hooks);
      } catch (e) {
        failed = true;
        error = e;
      }
      if (stop.aborted) return;
      switch (this.policy) {
        case 'Once':
          if (failed) throw error;
          return;
        case 'UntilSuccess':
          if (!failed) return;
          hooks.sink(ServiceState.Waiting, `Error running ${this.inner}, going to restart until it succeeds: ${messageOf(error)}`);
          break;
        case 'Forever':
          if (failed) hooks.sink(ServiceState.Waiting, `Error running ${this.inner}, going to restart forever: ${messageOf(error)}`);
          else hooks.sink(ServiceState.Waiting, `Runner ${this.inner} exited without error, going to restart it`);
          break;
      }
      if (this.opts.now() - started >= this.opts.stableAfter) backoff = this.opts.initialDelay;
      this.delays.push(backoff);
      await this.opts.sleep(backoff, stop);
      backoff = Math.min(backoff * 2, this.opts.maxDelay);
      if (stop.aborted) {
        hooks.sink(ServiceState.Stopping, 'Aborting restart sequence');
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopAc?.abort();
    await this.inner.stop();
    await this.running?.catch(() => {});
  }
}
