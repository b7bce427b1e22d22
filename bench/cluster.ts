/**
 * What the benchmark groups share: building dist/ when it is stale, starting a process cluster from the built
 * bundle (and always taking it down again, also on Ctrl-C), finding its processes and reading their CPU time and
 * memory from /proc.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterInfo, createCluster, destroyCluster, nodeAddresses } from '../src/provision/process.js';
import { listening } from '../test/helpers/ports.js';

const root = new URL('..', import.meta.url).pathname;
export const BUNDLE = join(root, 'dist', 'bin', 'bronze.js');

export const now = () => process.hrtime.bigint();
export const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
export const fmt = (xs: number[], digits = 3) => xs.map((x) => x.toFixed(digits)).join(', ');
export const delay = (msecs: number) => new Promise((r) => setTimeout(r, msecs));

/** The newest modification time of the files under `dir` whose names pass `keep`. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds dist/ (as `make build` does) when the bundle is missing or older than its sources. tsc leaves an output file
 * alone when its content did not change, so dist/ as a whole is compared, not the entry file.
 */
export function ensureBuilt(log: (s: string) => void): void {
  const sources = newest(join(root, 'src'), (n) => n.endsWith('.ts') && !n.endsWith('.test.ts'));
  if (existsSync(BUNDLE) && newest(join(root, 'dist'), (n) => n.endsWith('.js')) >= sources) return;
  log('dist/ is missing or older than src/: building it (npx tsc -p tsconfig.build.json)');
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(BUNDLE)) throw new Error(`building dist/ failed (exit ${r.status}): ${BUNDLE} is missing`);
}

/** Every process under the given roots (themselves included), from the parent links in /proc. */
export function descendants(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const pids = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!pids.has(pid) && pids.has(ppid)) {
        pids.add(pid);
        grew = true;
      }
    }
  }
  return [...pids];
}

/** Every process of the cluster: the machined of each node and their descendants (apid, trustd). */
export const clusterPids = (info: ClusterInfo) => descendants(info.nodes.map((n) => n.pid));

/** CPU time (user + system, in clock ticks) the processes used so far. */
export function cpuTicks(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return sum;
}

/** A process's resident set (VmRSS) in MiB, or undefined when it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The role of a Bronze process (`machined`, `apid`, `trustd`) from its command line, or undefined. */
export function roleOf(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.find((a) => a === 'machined' || a === 'apid' || a === 'trustd');
  } catch {
    return undefined;
  }
}

/** Waits until the processes are idle (under 5% of one core over a second) or `maxMs` passed. */
export async function settle(pids: () => number[], log: (s: string) => void, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const ps = pids();
    const before = cpuTicks(ps);
    await delay(1000);
    const used = (cpuTicks(ps) - before) / 100;
    if (used < 0.05 || Date.now() > deadline) {
      log(`${ps.length} processes, ${(used * 100).toFixed(1)}% of a core while idle`);
      return;
    }
  }
}

export interface BenchCluster {
  info: ClusterInfo;
  talosconfig: string;
  /** the cluster's state directory (its nodes' directories are below it) */
  stateDir: string;
}

/**
 * Runs `fn` with a process cluster of `controlplanes` + `workers` nodes on `cidr`, built from the bundle; the cluster
 * is destroyed afterwards, also when `fn` throws or the benchmark is interrupted.
 */
export async function withCluster<T>(
  o: { name: string; cidr: string; controlplanes: number; workers: number; log: (s: string) => void },
  fn: (c: BenchCluster) => Promise<T>,
): Promise<T> {
  for (const address of nodeAddresses(o.cidr, o.controlplanes + o.workers)) {
    if (await listening(address, 50000)) throw new Error(`${address}:50000 is taken: nodes of an interrupted run may still be running (ps aux | grep bronze)`);
  }
  ensureBuilt(o.log);
  const tmp = mkdtempSync(join(tmpdir(), `bronze-bench-${o.name}-`));
  const stateDir = join(tmp, 'clusters');
  const talosconfig = join(tmp, 'talosconfig');
  // the nodes run detached: an interrupted bench still takes its cluster down
  const onSignal = (sig: NodeJS.Signals) => {
    o.log(`${sig}: destroying the cluster`);
    void destroyCluster(stateDir, o.name)
      .catch(() => {})
      .finally(() => {
        rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = now();
    const info = await createCluster({
      name: o.name,
      stateDir,
      cidr: o.cidr,
      controlplanes: o.controlplanes,
      workers: o.workers,
      talosconfig,
      // BRONZE_BENCH_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to every node process, for profiling
      bronzeCommand: [process.execPath, ...(process.env.BRONZE_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), BUNDLE],
      waitTimeoutMs: 120_000,
      progress: (line) => o.log(line),
    });
    o.log(`cluster up in ${(ms(t0, now()) / 1000).toFixed(1)} s`);
    return await fn({ info, talosconfig, stateDir });
  } finally {
    if (existsSync(join(stateDir, o.name, 'cluster.json'))) {
      await destroyCluster(stateDir, o.name, (line) => o.log(line)).catch((e: Error) => o.log(`destroying the cluster failed: ${e.message}`));
    }
    rmSync(tmp, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Retries `fn` until it succeeds or `timeoutMs` passed (then its last error is thrown). */
export async function until<T>(fn: () => Promise<T>, timeoutMs: number, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await delay(stepMs);
    }
  }
}

/** The spread of repeated measurements as text: min–max over n. */
export const spread = (xs: number[], digits = 3) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)} over ${xs.length}`;
