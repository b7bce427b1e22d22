import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { errnoCode } from '../../sys/errors.js';
import { cgroupUnavailableReason } from './cgroup.js';

/**
 * The cgroup layout of a node (cgroup v2), as Talos has it: machined in `/init`, the system services under `/system`,
 * what runs Kubernetes under `/podruntime`. Each group has a CPU weight and memory protection; apid and trustd are
 * also capped. Weights are given in millicores (at most the machine's cores) and turned into `cpu.weight` through
 * cgroup v1 shares.
 */
export const CGROUPS = {
  init: '/init',
  system: '/system',
  systemRuntime: '/system/runtime',
  apid: '/system/apid',
  trustd: '/system/trustd',
  udevd: '/system/udevd',
  podRuntimeRoot: '/podruntime',
  podRuntime: '/podruntime/runtime',
  etcd: '/podruntime/etcd',
  kubelet: '/podruntime/kubelet',
} as const;

export type SystemCgroup = (typeof CGROUPS)[keyof typeof CGROUPS];

interface Resources {
  millicores: number;
  /** memory.min, memory.low, memory.max in bytes; swap: memory.swap.max */
  min?: number;
  low?: number;
  max?: number;
  swap?: number;
}

const MiB = 1024 * 1024;
const podRuntimeReserved = 196 * MiB;
const kubeletReserved = 96 * MiB;
const etcdReserved = 256 * MiB;

const RESOURCES: Record<SystemCgroup, Resources> = {
  '/init': { millicores: 2000, min: 96 * MiB, low: 192 * MiB, swap: 0 },
  '/system': { millicores: 1500, min: 96 * MiB, low: 192 * MiB },
  '/system/runtime': { millicores: 500, min: 48 * MiB, low: 96 * MiB, swap: 0 },
  '/system/apid': { millicores: 500, min: 16 * MiB, low: 32 * MiB, max: 128 * MiB, swap: 0 },
  '/system/trustd': { millicores: 250, min: 8 * MiB, low: 16 * MiB, max: 128 * MiB, swap: 0 },
  '/system/udevd': { millicores: 250, min: 8 * MiB, low: 16 * MiB, swap: 0 },
  '/podruntime': {
    millicores: 4000,
    min: podRuntimeReserved + kubeletReserved,
    low: (podRuntimeReserved + kubeletReserved) * 2 + etcdReserved,
  },
  '/podruntime/runtime': { millicores: 1000, min: podRuntimeReserved, low: podRuntimeReserved * 2, swap: 0 },
  '/podruntime/etcd': { millicores: 2000, low: etcdReserved, swap: 0 },
  '/podruntime/kubelet': { millicores: 1000, min: kubeletReserved, low: kubeletReserved * 2, swap: 0 },
};

/** `cpu.weight` for a share of CPU in millicores, limited to the machine's `cores` (through cgroup v1 shares). */
export function cpuWeight(millicores: number, cores = availableParallelism()): number {
  const shares = Math.floor((Math.min(millicores, cores * 1000) * 1024) / 1000);
  return Math.floor(((shares - 2) * 9999) / 262142) + 1;
}

/** The files a group's resources are written to, in order, with their values. */
export function resourceFiles(group: SystemCgroup, cores?: number): [file: string, value: string][] {
  const r = RESOURCES[group];
  const out: [string, string][] = [['cpu.weight', String(cpuWeight(r.millicores, cores))]];
  if (r.min !== undefined) out.push(['memory.min', String(r.min)]);
  if (r.low !== undefined) out.push(['memory.low', String(r.low)]);
  if (r.max !== undefined) out.push(['memory.max', String(r.max)]);
  if (r.swap !== undefined) out.push(['memory.swap.max', String(r.swap)]);
  return out;
}

const CONTROLLERS = ['cpu', 'memory'];

/** Enables the CPU and memory controllers for the children of `dir`, writing only those not enabled yet. */
function enableControllers(dir: string): void {
  const file = join(dir, 'cgroup.subtree_control');
  let enabled: string[] = [];
  try {
    enabled = readFileSync(file, 'utf8')
      .split(/\s+/)
      .map((c) => c.replace(/^\+/, ''));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const missing = CONTROLLERS.filter((c) => !enabled.includes(c));
  // a write here makes the kernel wait for every CPU to pass a quiescent point: it is done only when something changes
  if (missing.length > 0) writeFileSync(file, `${missing.map((c) => `+${c}`).join(' ')}\n`);
}

/**
 * Creates one group of the layout under the cgroup v2 mount `root` with its resources, the CPU and memory
 * controllers enabled down to it. `memory.swap.max` is left alone where the kernel keeps no swap accounting.
 *
 * Synchronous, as are the other writes that start a service in its group: each is a write to a kernel file that is
 * done at once, and a service waiting on the event loop between them waits for whatever else machined does. While a
 * node boots under emulation, that made apid start seconds after its turn.
 */
export function createSystemCgroup(root: string, group: SystemCgroup, cores?: number): string {
  const path = join(root, group);
  mkdirSync(path, { recursive: true });
  // the controllers are enabled in every group above, the root's included (their files then appear in the group)
  const parents: string[] = [];
  for (let p = dirname(group); p !== '/'; p = dirname(p)) parents.unshift(p);
  for (const p of ['', ...parents]) enableControllers(join(root, p));
  for (const [file, value] of resourceFiles(group, cores)) {
    try {
      writeFileSync(join(path, file), `${value}\n`);
    } catch (e) {
      if (file === 'memory.swap.max' && errnoCode(e) === 'ENOENT') continue;
      throw new Error(`${join(path, file)}: ${(e as Error).message}`, { cause: e });
    }
  }
  return path;
}

/**
 * The node's groups at boot: `/init` (machined, `pid`, moves in), `/system` and `/podruntime`; the services' own
 * groups are made when they start.
 */
export function createSystemCgroups(root: string, pid: number, cores?: number): void {
  for (const group of [CGROUPS.init, CGROUPS.system, CGROUPS.podRuntimeRoot]) createSystemCgroup(root, group, cores);
  writeFileSync(join(root, CGROUPS.init, 'cgroup.procs'), `${pid}\n`);
}

/** The node's groups at boot on the cgroup v2 mount `root`; false (logged) when the node has to run without them. */
export function setUpSystemCgroups(root: string, pid: number, logger: Logger): boolean {
  try {
    const reason = cgroupUnavailableReason(root);
    if (reason) throw new Error(reason);
    createSystemCgroups(root, pid);
    logger.info({ root }, 'initializing cgroups');
    return true;
  } catch (e) {
    logger.warn({ err: (e as Error).message }, 'running without cgroups');
    return false;
  }
}
