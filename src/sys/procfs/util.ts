import { readFile } from 'node:fs/promises';
import { SysError } from '../errors.js';

/** Where /proc is mounted; every reader takes it so tests can point them at fixtures. */
export const PROC = '/proc';
/** Where /sys is mounted. */
export const SYS = '/sys';
/** Clock ticks per second of the times in /proc/stat and /proc/<pid>/stat (USER_HZ, 100 on every Linux architecture). */
export const USER_HZ = 100;

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

const U64 = /^\d+$/;

/** A non-negative decimal integer kept as a decimal string (uint64 fields are strings in the generated messages). */
export function u64(value: string | undefined, what: string): string {
  if (value === undefined) return '0';
  if (!U64.test(value)) throw new SysError('BRONZE_SYS_PARSE', `${what}: expected an unsigned integer, got ${JSON.stringify(value)}`);
  // strip leading zeros without going through Number (values may exceed 2^53)
  const s = value.replace(/^0+(?=\d)/, '');
  return s;
}

/** Sums decimal strings exactly. */
export function addU64(a: string, b: string): string {
  return (BigInt(a) + BigInt(b)).toString();
}

export function int(value: string | undefined, what: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new SysError('BRONZE_SYS_PARSE', `${what}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}
