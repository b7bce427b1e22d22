import { MemInfo } from '../../api/gen/machine/machine.js';
import { SysError } from '../errors.js';
import { PROC, readText, u64 } from './util.js';

/**
 * Parses /proc/meminfo into MemInfo. Values stay in the file's unit (kB for sizes, counts for HugePages_*), as the
 * Talos API reports them. A key maps to its field by lower-casing it and dropping everything that is not a letter or
 * digit (`Active(anon)` → `activeanon`, `Committed_AS` → `committedas`); keys the message lacks are ignored and fields
 * the kernel does not report stay 0.
 */
export function parseMemInfo(text: string): MemInfo {
  const info = MemInfo.fromPartial({}) as unknown as Record<string, string>;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new SysError('BRONZE_SYS_PARSE', `meminfo: line without a colon: ${JSON.stringify(line)}`);
    const field = line.slice(0, colon).toLowerCase().replace(/[^a-z0-9]/g, '');
    if (!(field in info)) continue;
    const value = line.slice(colon + 1).trim().split(/\s+/)[0];
    info[field] = u64(value, `meminfo ${line.slice(0, colon)}`);
  }
  return info as unknown as MemInfo;
}

export async function readMemInfo(proc = PROC): Promise<MemInfo> {
  return parseMemInfo(await readText(`${proc}/meminfo`));
}
