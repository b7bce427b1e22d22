import { readFile, readdir, readlink } from 'node:fs/promises';
import { ProcessInfo } from '../../api/gen/machine/machine.js';
import { errnoCode } from '../errors.js';
import { parseStatLine } from './stat-line.js';
import { PROC, USER_HZ } from './util.js';

/** Memory page size; /proc/<pid>/stat reports the resident set in pages. 4 KiB on amd64 and on arm64 kernels we ship. */
export const PAGE_SIZE = 4096;

/** Errors that mean "the process went away or is not ours to read": the entry is skipped or the field left empty. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL']);

async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (VANISHED.has(errnoCode(e) ?? '')) return undefined;
    throw e;
  }
}

/**
 * Reads one process, or undefined when it vanished before its stat could be read. Fields that need privileges
 * (`exe` of another user's process, kernel threads' `exe`) are left empty instead of dropping the process.
 */
export async function readProcess(pid: number, proc = PROC): Promise<ProcessInfo | undefined> {
  const dir = `${proc}/${pid}`;
  const statText = await optional(readFile(`${dir}/stat`, 'utf8'));
  if (statText === undefined) return undefined;
  const st = parseStatLine(statText);
  const [cmdline, exe, label] = await Promise.all([
    optional(readFile(`${dir}/cmdline`)),
    optional(readlink(`${dir}/exe`)),
    optional(readFile(`${dir}/attr/current`, 'utf8')),
  ]);
  let args = '';
  if (cmdline) {
    let end = cmdline.length;
    while (end > 0 && cmdline[end - 1] === 0) end--;
    args = cmdline.subarray(0, end).toString('utf8').replaceAll('\0', ' ');
  }
  return ProcessInfo.fromPartial({
    pid: st.pid,
    ppid: st.ppid,
    state: st.state,
    threads: st.threads,
    cpuTime: (st.utime + st.stime) / USER_HZ,
    virtualMemory: st.vsize,
    residentMemory: (BigInt(st.rss) * BigInt(PAGE_SIZE)).toString(),
    command: st.comm,
    executable: exe ?? '',
    args,
    label: (label ?? '').replace(/[\0\n]+$/, ''),
  });
}

/** The numeric entries of /proc, in ascending order. */
export async function listPids(proc = PROC): Promise<number[]> {
  const names = await readdir(proc);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Every process in /proc (ProcessInfo as Talos's Processes RPC returns them). A process that exits between the
 * directory listing and the reads is left out; reads run a bounded number at a time.
 */
export async function readProcesses(proc = PROC, concurrency = 32): Promise<ProcessInfo[]> {
  const pids = await listPids(proc);
  const out: (ProcessInfo | undefined)[] = new Array(pids.length);
  let next = 0;
  const worker = async () => {
    while (next < pids.length) {
      const i = next++;
      out[i] = await readProcess(pids[i], proc);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pids.length) }, worker));
  return out.filter((p): p is ProcessInfo => p !== undefined);
}
