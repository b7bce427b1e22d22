import type { Watch } from './state.js';

/** The result of a finished iteration, shared. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A watch made of a pull function and a stop function (what every backend's watches come down to). */
export class PullWatch<T> implements Watch<T> {
  constructor(
    private readonly pull: () => Promise<IteratorResult<T>>,
    private readonly stop: () => void,
  ) {}

  next(): Promise<IteratorResult<T>> {
    return this.pull();
  }

  async return(): Promise<IteratorResult<T>> {
    this.stop();
    return DONE;
  }

  close(): void {
    this.stop();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Waits `ms`, or less when `signal` aborts, leaving no timer or listener behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
