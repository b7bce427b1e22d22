import { SequencerError } from './errors.js';
import { canTakeOver, type SequenceName } from './sequence.js';

export interface LockOptions {
  /** preempt whatever runs, whatever the take-over table says (Shutdown, Rollback, signal handlers) */
  takeover?: boolean;
  /** how long to wait for a preempted sequence to let go, ms (default 60 000, as Talos) */
  timeout?: number;
}

export interface Held {
  sequence: SequenceName;
  /** aborts when a higher-priority sequence takes over */
  signal: AbortSignal;
  release(): void;
}

/**
 * One sequence at a time. A request that may take over (table or `takeover`) cancels the running sequence and
 * waits for it to release; any other request fails at once with BRONZE_SEQUENCER_LOCKED.
 */
export class PriorityLock {
  private running: { sequence: SequenceName; ac: AbortController; released: Promise<void>; release: () => void } | undefined;
  /** serialises acquisitions, so two take-overs do not race */
  private acquiring: Promise<void> = Promise.resolve();

  /** The running sequence, or 'noop'. */
  get current(): SequenceName {
    return this.running?.sequence ?? 'noop';
  }

  /** Cancels the running sequence (its tasks see their signal abort); it still releases the lock itself. */
  cancelRunning(): SequenceName | undefined {
    const running = this.running;
    if (!running) return undefined;
    running.ac.abort(new SequencerError('BRONZE_SEQUENCER_CANCELED', `sequence ${running.sequence} canceled`));
    return running.sequence;
  }

  /** Resolves when no sequence holds the lock. */
  async idle(): Promise<void> {
    while (this.running) await this.running.released;
  }

  async lock(sequence: SequenceName, opts: LockOptions = {}): Promise<Held> {
    const timeout = opts.timeout ?? 60_000;
    const prev = this.acquiring;
    let done!: () => void;
    this.acquiring = new Promise((r) => (done = r));
    try {
      await withTimeout(prev, timeout);
      const running = this.running;
      if (running) {
        if (!canTakeOver(sequence, running.sequence) && !opts.takeover) throw new SequencerError('BRONZE_SEQUENCER_LOCKED', 'locked');
        running.ac.abort(new SequencerError('BRONZE_SEQUENCER_CANCELED', `sequence ${running.sequence} canceled by ${sequence}`));
        await withTimeout(running.released, timeout);
      }
      const ac = new AbortController();
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const entry = { sequence, ac, released, release: () => {} };
      entry.release = () => {
        if (this.running === entry) this.running = undefined;
        release();
      };
      this.running = entry;
      return { sequence, signal: ac.signal, release: entry.release };
    } finally {
      done();
    }
  }
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SequencerError('BRONZE_SEQUENCER_LOCK_TIMEOUT', 'failed to acquire lock: timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
