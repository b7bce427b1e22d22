import type { EventSink } from './state.js';

/** What a runner reports besides state changes. */
export interface RunnerHooks {
  sink: EventSink;
  /** the main process id while it runs, undefined once it has exited */
  pid?: (pid: number | undefined) => void;
}

/**
 * Runs a service's payload. `run` resolves when it ends successfully and rejects with the reason it failed;
 * `stop` asks it to end and resolves once it has (run then resolves). A runner may be run again after it ended.
 */
export interface Runner {
  run(hooks: RunnerHooks): Promise<void>;
  stop(): Promise<void>;
  /** Talos-style description, e.g. `Process(["/bin/containerd" "--address" "..."])` */
  toString(): string;
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(args: readonly string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(' ')}]`;
}

/**
 * Runs an in-process task (machined's own API server, syslogd...): "Service started as goroutine". The function
 * gets a signal that aborts on stop and should return when it does.
 */
export class FunctionRunner implements Runner {
  private ac?: AbortController;
  private running?: Promise<void>;
  constructor(
    private readonly id: string,
    private readonly fn: (signal: AbortSignal) => Promise<void>,
  ) {}

  async run(hooks: RunnerHooks): Promise<void> {
    const ac = new AbortController();
    this.ac = ac;
    hooks.sink(3 /* Running */, 'Service started as goroutine');
    this.running = this.fn(ac.signal);
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    this.ac?.abort();
    await this.running?.catch(() => {});
  }

  toString(): string {
    return `Goroutine(${JSON.stringify(this.id)})`;
  }
}
