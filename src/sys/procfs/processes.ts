import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { ProcessInfo } from '../../api/gen/machine/machine.js';
import { errnoCode } from '../errors.js';
import { parseStatLine } from './stat-line.js';
import { PROC, USER_HZ } from './util.js';

/** Memory page size; /proc/<pid>/stat reports the resident set in pages. 4 KiB on amd64 and on arm64 kernels we ship. */
export const PAGE_SIZE = 4096;

/** Errors that mean "the process went away or is not ours to read": the entry is skipped or the field left empty. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL']);

function vanished(e: unknown): undefined {
  if (VANISHED.has(errnoCode(e) ?? '')) return undefined;
  throw e;
}

const SCRATCH_SIZE = 16 * 1024;
/**
 * The one buffer every per-process read goes through. The files are made by the kernel as they are read and never
 * wait for a disk, so they are read synchronously: read through the thread pool, each file cost four requests and a
 * fresh 64 KiB buffer (its size is unknown), and a few hundred Processes calls left machined 33 MiB larger for good.
 */
let scratch = Buffer.allocUnsafe(SCRATCH_SIZE);

/** A /proc file's whole content, decoded by `decode` before the next read reuses the buffer; undefined if it vanished. */
function readProcFile<T>(path: string, decode: (bytes: Buffer) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return vanished(e);
  }
  try {
    let n = 0;
    for (;;) {
      if (n === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, n);
        scratch = bigger;
      }
      const got = readSync(fd, scratch, n, scratch.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return decode(scratch.subarray(0, n));
  } catch (e) {
    return vanished(e);
  } finally {
    closeSync(fd);
    // a long command line grew the buffer: it is not kept that size
    if (scratch.length > 4 * SCRATCH_SIZE) scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (e) {
    return vanished(e);
  }
}

/** The command line with its NUL separators as spaces (trailing NULs dropped). */
function argsOf(cmdline: Buffer): string {
  let end = cmdline.length;
  while (end > 0 && cmdline[end - 1] === 0) end--;
  return cmdline.toString('utf8', 0, end).replaceAll('\0', ' ');
}

function readProcessSync(pid: number, proc: string): ProcessInfo | undefined {
  const dir = `${proc}/${pid}`;
  const statText = readProcFile(`${dir}/stat`, (b) => b.toString('utf8'));
  if (statText === undefined) return undefined;
  const st = parseStatLine(statText);
  const args = readProcFile(`${dir}/cmdline`, argsOf) ?? '';
  const exe = readLink(`${dir}/exe`);
  const label = readProcFile(`${dir}/attr/current`, (b) => b.toString('utf8'));
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

/**
 * Reads one process, or undefined when it vanished before its stat could be read. Fields that need privileges
 * (`exe` of another user's process, kernel threads' `exe`) are left empty instead of dropping the process.
 */
export async function readProcess(pid: number, proc = PROC): Promise<ProcessInfo | undefined> {
  return readProcessSync(pid, proc);
}

/** The numeric entries of /proc, in ascending order. */
export async function listPids(proc = PROC): Promise<number[]> {
  const names = await readdir(proc);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Processes read between two turns of the event loop. */
const BATCH = 64;

/**
 * Every process in /proc (ProcessInfo as Talos's Processes RPC returns them). A process that exits between the
 * directory listing and the reads is left out; the event loop gets a turn after every batch of processes.
 */
export async function readProcesses(proc = PROC): Promise<ProcessInfo[]> {
  const pids = await listPids(proc);
  const out: ProcessInfo[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const p = readProcessSync(pids[i]!, proc);
    if (p) out.push(p);
  }
  return out;
}
