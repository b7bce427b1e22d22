import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { LIFELINE_ENV, SUPERVISOR_PID_ENV } from '../../sys/lifeline.js';
import type { LogBuffer } from '../logs/index.js';
import { Cgroup, CGROUP_ROOT, cgroupUnavailableReason } from './cgroup.js';
import { createSystemCgroup, type SystemCgroup } from './system-cgroups.js';
import { SupervisorError, messageOf } from './errors.js';
import { delay } from './health.js';
import { goQuoteList, type Runner, type RunnerHooks } from './runner.js';
import { ServiceState } from './state.js';

/** util-linux's setpriv, where the system has it (Debian does; the image may not). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
/** a POSIX shell, for the parent check between setpriv and the program */
const SH = ['/bin/sh', '/usr/bin/sh'].find((p) => existsSync(p));

/**
 * The argv that runs `args` with SIGKILL as its parent-death signal, set by setpriv. The signal only covers a parent
 * that dies after it was set: a parent killed between the fork and setpriv's prctl leaves the process adopted by
 * another, so a shell between setpriv and the program checks that its parent is still `parentPid` and exits 1 if not.
 */
export function parentDeathArgv(setpriv: string, sh: string, parentPid: number, args: readonly string[]): string[] {
  return [setpriv, '--pdeathsig', 'KILL', '--', sh, '-c', '[ "$PPID" = "$1" ] || exit 1; shift; exec "$@"', 'bronze-pdeath', String(parentPid), ...args];
}

/** PATH given to services when the environment has none (Talos's default). */
export const DEFAULT_PATH = '/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bin:/usr/local/sbin';

export interface ProcessRunnerOptions {
  /** service id (names the cgroup and log lines) */
  id: string;
  /** argv; args[0] is the executable */
  args: string[];
  /** added to (and overriding) the inherited environment */
  env?: Record<string, string>;
  /** start from machined's environment (default true, as Talos does) */
  inheritEnv?: boolean;
  cwd?: string;
  /** drop to this user / group (machined must be root) */
  uid?: number;
  gid?: number;
  /** where stdout and stderr go */
  log?: LogBuffer;
  /** ms between SIGTERM and SIGKILL on stop (default 10 000, as Talos) */
  gracefulShutdownTimeout?: number;
  /**
   * cgroup v2 directory for the process, relative to `root` (default /sys/fs/cgroup); skipped with a logged reason when
   * unavailable. `system`: a group of the node's layout, made with its CPU weight and memory protection.
   */
  cgroup?: { path: string; root?: string; system?: false } | { path: SystemCgroup; root?: string; system: true };
  /** /proc/<pid>/oom_score_adj */
  oomScoreAdj?: number;
  /**
   * Give the process a lifeline: fd 3 is the read end of a pipe whose write end only machined holds, so the process
   * sees end-of-file when machined is gone, even after a SIGKILL (our own programs exit then; see `watchLifeline`)
   */
  lifeline?: boolean;
  logger?: Logger;
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
  SIGPIPE: 'broken pipe',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
};

/** Go's os.ProcessState text for an exit: `exit status 2`, `signal: killed`. */
export function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_TEXT[signal] ?? signal}`;
  return `exit status ${code ?? -1}`;
}

/**
 * Runs a service as a host process: spawned in its own process group with the given environment, directory and
 * user, stdout and stderr captured into the service log, optionally placed in a cgroup v2 directory. Stopping sends
 * SIGTERM to the process group, then SIGKILL after the graceful timeout, and waits for the exit (Node reaps the
 * child, so no zombie is left); whatever is left in the cgroup is killed and the cgroup removed.
 */
export class ProcessRunner implements Runner {
  private readonly opts: ProcessRunnerOptions;
  private current?: { stop: AbortController; done: Promise<void> };

  constructor(opts: ProcessRunnerOptions) {
    if (opts.args.length === 0 || opts.args[0] === '') throw new SupervisorError('BRONZE_SUPERVISOR_INVALID_OPTION', `service ${opts.id}: args must name an executable`);
    this.opts = opts;
  }

  toString(): string {
    return `Process(${goQuoteList(this.opts.args)})`;
  }

  run(hooks: RunnerHooks): Promise<void> {
    const stop = new AbortController();
    const done = this.runOnce(hooks, stop.signal);
    this.current = { stop, done };
    return done.finally(() => {
      if (this.current?.done === done) this.current = undefined;
    });
  }

  async stop(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    cur.stop.abort();
    await cur.done.catch(() => {});
  }

  private env(): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = this.opts.inheritEnv === false ? {} : { ...process.env };
    if (!base.PATH) base.PATH = DEFAULT_PATH;
    return { ...base, ...this.opts.env, ...(this.opts.lifeline ? { [LIFELINE_ENV]: '3', [SUPERVISOR_PID_ENV]: String(process.pid) } : {}) };
  }

  private prepareCgroup(): Cgroup | undefined {
    const spec = this.opts.cgroup;
    if (!spec) return undefined;
    const root = spec.root ?? CGROUP_ROOT;
    const reason = cgroupUnavailableReason(root);
    if (reason) {
      this.opts.logger?.info({ service: this.opts.id, reason }, 'running without a cgroup');
      return undefined;
    }
    const cg = new Cgroup(root, spec.path);
    try {
      if (spec.system) createSystemCgroup(root, spec.path);
      else cg.create();
      return cg;
    } catch (e) {
      this.opts.logger?.info({ service: this.opts.id, reason: messageOf(e) }, 'running without a cgroup');
      return undefined;
    }
  }

  private killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    const pid = child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  private async runOnce(hooks: RunnerHooks, stopSignal: AbortSignal): Promise<void> {
    const cgroup = this.prepareCgroup();
    // a process without a lifeline gets SIGKILL from the kernel if machined dies (util-linux setpriv sets the parent-death
    // signal, then execs it): each service runs in a process group of its own, which a kill of machined's group misses
    const argv = !this.opts.lifeline && SETPRIV && SH ? parentDeathArgv(SETPRIV, SH, process.pid, this.opts.args) : this.opts.args;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: this.opts.cwd,
      env: this.env(),
      uid: this.opts.uid,
      gid: this.opts.gid,
      stdio: this.opts.lifeline ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // into its group as soon as it exists, not after a turn of the event loop: until then it runs in machined's group
    let moveError: unknown;
    if (cgroup && child.pid !== undefined) {
      try {
        cgroup.add(child.pid);
      } catch (e) {
        moveError = e;
      }
    }
    try {
      await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(e))]);
    } catch (e) {
      await cgroup?.remove().catch(() => {});
      throw new SupervisorError('BRONZE_SUPERVISOR_SPAWN', `error starting process: ${messageOf(e)}`, { cause: e });
    }
    child.on('error', () => {}); // later errors (kill of a gone process) are not fatal
    const pid = child.pid!;

    let lastLine = '';
    let partial = '';
    const capture = (data: Buffer) => {
      this.opts.log?.write(data);
      const text = partial + data.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop()!.slice(-1024);
      for (let i = lines.length - 1; i >= 0; i--) {
        if (lines[i].trim() !== '') {
          lastLine = lines[i].slice(-1024);
          break;
        }
      }
    };
    child.stdout!.on('data', capture);
    child.stderr!.on('data', capture);
    const pipesClosed = once(child, 'close');

    try {
      if (moveError !== undefined) throw moveError;
      if (this.opts.oomScoreAdj !== undefined) await writeFile(`/proc/${pid}/oom_score_adj`, `${this.opts.oomScoreAdj}\n`).catch((e) => this.opts.logger?.warn({ service: this.opts.id, err: messageOf(e) }, 'cannot set oom_score_adj'));
    } catch (e) {
      this.killGroup(child, 'SIGKILL');
      await exited;
      await cgroup?.remove().catch(() => {});
      throw new SupervisorError('BRONZE_SUPERVISOR_SPAWN', `failed to move process ${this} to cgroup: ${messageOf(e)}`, { cause: e });
    }

    hooks.pid?.(pid);
    hooks.sink(ServiceState.Running, `Process ${this} started with PID ${pid}`);

    const stopped = new Promise<'stop'>((resolve) => {
      if (stopSignal.aborted) resolve('stop');
      else stopSignal.addEventListener('abort', () => resolve('stop'), { once: true });
    });
    const first = await Promise.race([exited, stopped]);
    let status: { code: number | null; signal: NodeJS.Signals | null };
    if (first === 'stop') {
      hooks.sink(ServiceState.Stopping, `Sending SIGTERM to ${this}`);
      this.killGroup(child, 'SIGTERM');
      const timeout = new AbortController();
      const graceful = await Promise.race([exited, delay(this.opts.gracefulShutdownTimeout ?? 10_000, timeout.signal).then(() => 'timeout' as const)]);
      timeout.abort();
      if (graceful === 'timeout') {
        hooks.sink(ServiceState.Stopping, `Sending SIGKILL to ${this}`);
        this.killGroup(child, 'SIGKILL');
      }
      status = await exited;
    } else {
      status = first;
    }

    // leftovers of the group (daemonized children) and of the cgroup go too, so the pipes close
    this.killGroup(child, 'SIGKILL');
    if (cgroup) {
      await cgroup.kill().catch(() => {});
    }
    const drain = new AbortController();
    await Promise.race([pipesClosed, delay(1000, drain.signal)]);
    drain.abort();
    child.stdout!.destroy();
    child.stderr!.destroy();
    (child.stdio[3] as Readable | null | undefined)?.destroy();
    if (partial.trim() !== '') lastLine = partial;
    await cgroup?.remove().catch((e) => hooks.sink(ServiceState.Stopping, `Failed to remove cgroup for ${this}, ${messageOf(e)}`));
    hooks.pid?.(undefined);

    if (first === 'stop' || (status.code === 0 && !status.signal)) return;
    throw new SupervisorError('BRONZE_SUPERVISOR_PROCESS_EXIT', `${exitText(status.code, status.signal)} (last log ${JSON.stringify(lastLine)})`);
  }
}
