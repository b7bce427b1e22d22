import { ServiceHealth } from '../../api/gen/machine/machine.js';
import { messageOf } from './errors.js';

/** How a health check runs (durations in ms). Talos's defaults: 1 s initial delay, 5 s period, 500 ms timeout. */
export interface HealthSettings {
  initialDelay: number;
  period: number;
  timeout: number;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = Object.freeze({ initialDelay: 1000, period: 5000, timeout: 500 });

/** A health check passes by resolving; it should give up when the signal aborts (the timeout). */
export type HealthCheck = (signal: AbortSignal) => Promise<void>;

/** The zero time Go's zero time.Time encodes to (0001-01-01T00:00:00Z). */
export const ZERO_TIME = new Date(-62135596800000);

export interface HealthStatus {
  /** undefined = not known yet */
  healthy?: boolean;
  lastMessage: string;
  lastChange: Date;
}

export function healthToProto(status: HealthStatus): ServiceHealth {
  return { unknown: status.healthy === undefined, healthy: status.healthy === true, lastMessage: status.lastMessage, lastChange: status.lastChange };
}

/** Health of one service; listeners hear about changes of the healthy flag only, as in Talos. */
export class HealthState {
  private status: HealthStatus = { lastMessage: '', lastChange: ZERO_TIME };
  private readonly listeners = new Set<(now: HealthStatus, before: HealthStatus) => void>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  get(): HealthStatus {
    return { ...this.status };
  }

  /** Resets to unknown (a new run starts). */
  init(): void {
    this.status = { healthy: undefined, lastMessage: 'Unknown', lastChange: new Date(this.clock()) };
  }

  update(healthy: boolean, message: string): void {
    const before = this.get();
    const changed = this.status.healthy !== healthy;
    if (changed) {
      this.status.healthy = healthy;
      this.status.lastChange = new Date(this.clock());
    }
    this.status.lastMessage = message;
    if (changed) for (const l of [...this.listeners]) l(this.get(), before);
  }

  subscribe(listener: (now: HealthStatus, before: HealthStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Resolves after `ms`, or early (without error) when the signal aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs one check under a timeout; a check that ignores its signal still counts as failed when the timeout passes. */
async function checkOnce(check: HealthCheck, timeout: number, outer: AbortSignal): Promise<string | undefined> {
  const ac = new AbortController();
  const abort = () => ac.abort(outer.reason);
  outer.addEventListener('abort', abort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error('context deadline exceeded');
        ac.abort(err);
        reject(err);
      }, timeout);
    });
    await Promise.race([check(ac.signal), timedOut]);
    return undefined;
  } catch (e) {
    return messageOf(e);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', abort);
  }
}

/** Runs the health check loop until the signal aborts: initial delay, then one check per period. */
export async function runHealthChecks(signal: AbortSignal, settings: HealthSettings, state: HealthState, check: HealthCheck): Promise<void> {
  state.init();
  await delay(settings.initialDelay, signal);
  while (!signal.aborted) {
    const started = Date.now();
    const failure = await checkOnce(check, settings.timeout, signal);
    if (signal.aborted) return;
    state.update(failure === undefined, failure ?? '');
    await delay(Math.max(0, settings.period - (Date.now() - started)), signal);
  }
}
