/** One line of /proc/<pid>/stat, and when this process started against Node's time origin. */
import { readFileSync } from 'node:fs';
import { SysError } from '../errors.js';
import { PROC, USER_HZ } from './util.js';

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
  /** when the process started, in clock ticks (USER_HZ) since the boot */
  starttime: number;
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
    starttime: Number(f[19]),
  };
}

/**
 * How long this process ran before Node's time origin (performance.now() 0): the kernel's start of the process from
 * /proc/self/stat against /proc/uptime, read together, in ms (10 ms steps); undefined without /proc. Under emulation
 * this is where loading the Node binary's pages before main() shows.
 */
export function msBeforeTimeOrigin(proc = PROC, now = performance.now()): number | undefined {
  try {
    const uptimeS = Number(readFileSync(`${proc}/uptime`, 'utf8').split(' ')[0]);
    const { starttime } = parseStatLine(readFileSync(`${proc}/self/stat`, 'utf8'));
    const ms = Math.round((uptimeS - starttime / USER_HZ) * 1000 - now);
    return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
  } catch {
    return undefined;
  }
}
