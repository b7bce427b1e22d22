import { DiskStat } from '../../api/gen/machine/machine.js';
import { PROC, addU64, readText, u64 } from './util.js';

const FIELDS = [
  'readCompleted', 'readMerged', 'readSectors', 'readTimeMs',
  'writeCompleted', 'writeMerged', 'writeSectors', 'writeTimeMs',
  'ioInProgress', 'ioTimeMs', 'ioTimeWeightedMs',
  'discardCompleted', 'discardMerged', 'discardSectors', 'discardTimeMs',
] as const;

export interface DiskStatsResult {
  total: DiskStat;
  devices: DiskStat[];
}

/**
 * Parses /proc/diskstats: one DiskStat per device line with the discard fields (kernels ≥ 4.18: 18 or more fields;
 * shorter lines are skipped, as Talos does), in file order, and their sum as `total` (name empty).
 */
export function parseDiskStats(text: string): DiskStatsResult {
  const total = DiskStat.fromPartial({});
  const devices: DiskStat[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 18) continue;
    const stat = DiskStat.fromPartial({ name: f[2] });
    FIELDS.forEach((name, i) => {
      stat[name] = u64(f[3 + i], `diskstats ${f[2]} ${name}`);
      total[name] = addU64(total[name], stat[name]);
    });
    devices.push(stat);
  }
  return { total, devices };
}

export async function readDiskStats(proc = PROC): Promise<DiskStatsResult> {
  return parseDiskStats(await readText(`${proc}/diskstats`));
}
