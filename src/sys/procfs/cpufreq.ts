import { readdir } from 'node:fs/promises';
import { CPUFreqStats } from '../../api/gen/machine/machine.js';
import { errnoCode } from '../errors.js';
import { SYS, readText, u64 } from './util.js';

async function value(path: string): Promise<string | undefined> {
  try {
    return (await readText(path)).trim();
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EINVAL' || code === 'EBUSY') return undefined;
    throw e;
  }
}

/**
 * One CPUFreqStats per CPU that has a cpufreq directory (`<sys>/devices/system/cpu/cpuN/cpufreq`), in CPU order;
 * frequencies in kHz as sysfs reports them. A CPU whose current, minimum or maximum frequency cannot be read yields an
 * empty message, as Talos does; a machine without cpufreq (most VMs) yields an empty list.
 */
export async function readCPUFreqStats(sys = SYS): Promise<CPUFreqStats[]> {
  const base = `${sys}/devices/system/cpu`;
  let names: string[];
  try {
    names = await readdir(base);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const cpus = names
    .filter((n) => /^cpu\d+$/.test(n))
    .map((n) => Number(n.slice(3)))
    .sort((a, b) => a - b);
  const out: CPUFreqStats[] = [];
  for (const cpu of cpus) {
    const dir = `${base}/cpu${cpu}/cpufreq`;
    const [cur, min, max, governor] = await Promise.all([
      value(`${dir}/cpuinfo_cur_freq`).then(async (v) => v ?? (await value(`${dir}/scaling_cur_freq`))),
      value(`${dir}/cpuinfo_min_freq`),
      value(`${dir}/cpuinfo_max_freq`),
      value(`${dir}/scaling_governor`),
    ]);
    if (cur === undefined && min === undefined && max === undefined && governor === undefined) continue; // no cpufreq here
    if (cur === undefined || min === undefined || max === undefined) {
      out.push(CPUFreqStats.fromPartial({}));
      continue;
    }
    out.push({
      currentFrequency: u64(cur, `${dir}/cpuinfo_cur_freq`),
      minimumFrequency: u64(min, `${dir}/cpuinfo_min_freq`),
      maximumFrequency: u64(max, `${dir}/cpuinfo_max_freq`),
      governor: governor ?? '',
    });
  }
  return out;
}
