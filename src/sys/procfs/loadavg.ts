import { SysError } from '../errors.js';
import { PROC, readText } from './util.js';

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

/** Parses /proc/loadavg (`0.84 1.09 0.80 1/87 32254`). */
export function parseLoadAvg(text: string): LoadAverage {
  const f = text.trim().split(/\s+/);
  const nums = f.slice(0, 3).map(Number);
  if (f.length < 3 || nums.some((n) => !Number.isFinite(n))) throw new SysError('BRONZE_SYS_PARSE', `loadavg: unexpected content ${JSON.stringify(text)}`);
  return { load1: nums[0], load5: nums[1], load15: nums[2] };
}

export async function readLoadAvg(proc = PROC): Promise<LoadAverage> {
  return parseLoadAvg(await readText(`${proc}/loadavg`));
}
