import { NetDev } from '../../api/gen/machine/machine.js';
import { SysError } from '../errors.js';
import { PROC, addU64, readText, u64 } from './util.js';

const FIELDS = [
  'rxBytes', 'rxPackets', 'rxErrors', 'rxDropped', 'rxFifo', 'rxFrame', 'rxCompressed', 'rxMulticast',
  'txBytes', 'txPackets', 'txErrors', 'txDropped', 'txFifo', 'txCollisions', 'txCarrier', 'txCompressed',
] as const;

export interface NetDevResult {
  total: NetDev;
  devices: NetDev[];
}

/** Parses /proc/net/dev: devices in file order and their sum as `total` (named `total`, as Talos reports it). */
export function parseNetDev(text: string): NetDevResult {
  const total = NetDev.fromPartial({ name: 'total' });
  const devices: NetDev[] = [];
  const lines = text.split('\n').slice(2); // two header lines
  for (const line of lines) {
    if (line.trim() === '') continue;
    const colon = line.lastIndexOf(':');
    if (colon < 0) throw new SysError('BRONZE_SYS_PARSE', `net/dev: line without a colon: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (f.length < FIELDS.length) throw new SysError('BRONZE_SYS_PARSE', `net/dev: ${name}: expected ${FIELDS.length} counters, got ${f.length}`);
    const dev = NetDev.fromPartial({ name });
    FIELDS.forEach((field, i) => {
      dev[field] = u64(f[i], `net/dev ${name} ${field}`);
      total[field] = addU64(total[field], dev[field]);
    });
    devices.push(dev);
  }
  return { total, devices };
}

export async function readNetDev(proc = PROC): Promise<NetDevResult> {
  return parseNetDev(await readText(`${proc}/net/dev`));
}
