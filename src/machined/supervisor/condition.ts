/**
 * Something a service waits for before it starts (network ready, a resource present, another service up). `wait`
 * resolves when the condition holds and rejects when the signal aborts; `describe` says what is still awaited and
 * may change while waiting (the supervisor re-emits "Waiting for ..." when it does).
 */
export interface Condition {
  wait(signal: AbortSignal): Promise<void>;
  describe(): string;
}

/** Rejection used when a wait is aborted. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('context canceled'), { name: 'AbortError' });
}

/**
 * Waits for all conditions at once; the description lists those not met yet, joined by ", " (a nested condition
 * that has nothing left to describe is left out, not listed as an empty item).
 */
export function waitForAll(...conditions: (Condition | undefined)[]): Condition {
  const pending = new Set(conditions.filter((c): c is Condition => c !== undefined));
  const all = [...pending];
  return {
    async wait(signal: AbortSignal): Promise<void> {
      await Promise.all(
        all.map(async (c) => {
          await c.wait(signal);
          pending.delete(c);
        }),
      );
    },
    describe(): string {
      return [...pending]
        .map((c) => c.describe())
        .filter((d) => d !== '')
        .join(', ');
    },
  };
}

/** A condition that re-checks a predicate whenever `changes` fires (or on every `pollMs` when given). */
export function predicateCondition(description: string, holds: () => boolean | Promise<boolean>, opts: { subscribe?: (wake: () => void) => () => void; pollMs?: number } = {}): Condition {
  return {
    describe: () => description,
    async wait(signal: AbortSignal): Promise<void> {
      while (true) {
        if (signal.aborted) throw abortError(signal);
        if (await holds()) return;
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          const unsubscribers: (() => void)[] = [];
          const done = () => {
            clearTimeout(timer);
            for (const u of unsubscribers.splice(0)) u();
            signal.removeEventListener('abort', done);
            resolve();
          };
          const unsubscribe = opts.subscribe?.(done);
          if (unsubscribe) unsubscribers.push(unsubscribe);
          if (opts.pollMs !== undefined) timer = setTimeout(done, opts.pollMs);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
