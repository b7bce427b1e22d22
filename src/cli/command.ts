import type { FlagSpec, FlagValue, ParsedArgs } from './flags.js';
import { UsageError } from './flags.js';

/** Where a command writes; tests pass their own. */
export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** aborted on SIGINT/SIGTERM: long-running commands stop and clean up */
  signal: AbortSignal;
}

export class CommandContext {
  constructor(
    readonly io: CommandIO,
    readonly args: ParsedArgs,
    /** the command path, e.g. ['gen', 'config'] */
    readonly path: string[],
    /** the whole command tree (for help and shell completion) */
    readonly root?: Command,
  ) {}

  get positional(): string[] {
    return this.args.positional;
  }

  given(name: string): boolean {
    return this.args.given.has(name);
  }

  private value(name: string): FlagValue {
    return this.args.flags.get(name);
  }

  string(name: string): string | undefined {
    const v = this.value(name);
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.value(name) === true;
  }

  int(name: string): number | undefined {
    const v = this.value(name);
    return typeof v === 'number' ? v : undefined;
  }

  /** duration flags are held in milliseconds */
  duration(name: string): number | undefined {
    return this.int(name);
  }

  list(name: string): string[] {
    const v = this.value(name);
    return Array.isArray(v) ? v : [];
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  /** Fails with a usage error unless exactly `n` (or between min and max) positional arguments were given. */
  expectArgs(min: number, max = min): string[] {
    const n = this.positional.length;
    if (n < min || n > max) {
      const want = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
      throw new UsageError(`${this.path.join(' ')}: accepts ${want} arg(s), received ${n}`);
    }
    return this.positional;
  }
}

export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  /** a usage line after the command path, e.g. '<cluster name> <cluster endpoint>' */
  usage?: string;
  flags?: FlagSpec[];
  subcommands?: Command[];
  /** left out of help and completion (kept for talosctl's deprecated names) */
  hidden?: boolean;
  /** returns the exit code; a thrown error prints one line and exits 1 */
  run?: (ctx: CommandContext) => Promise<number | undefined> | number | undefined;
}
