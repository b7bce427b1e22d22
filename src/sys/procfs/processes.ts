import { readFile, readdir, readlink } from 'node:fs/promises';
import { ProcessInfo } from '../../api/gen/machine/machine.js';
import { SysError, errnoCode } from '../errors.js';
import { USER_HZ } from './stat.js';
import { PROC } from './util.js';

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

export interface StatLine {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  threads: number;
  vsize: string;
  rss: string;
}

/** Parses /proc/<pid>/stat; the command name sits between the first `(` and the last `)` and may hold spaces. */
export function parseStatLine(text: string): StatLine {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new SysError('BRONZE_SYS_PARSE', `stat: unexpected format ${JSON.stringify(text.slice(0, 80))}`);
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state) of proc(5)
  if (f.length < 22) throw new SysError('BRONZE_SYS_PARSE', `stat: too few fields (${f.length + 2})`);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    threads: Number(f[17]),
    vsize: f[20],
    rss: f[21],
  };
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
