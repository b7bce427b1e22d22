import { stat, statfs } from 'node:fs/promises';
import { MountStat } from '../../api/gen/machine/machine.js';
import { PROC, readText } from './util.js';

export interface MountEntry {
  filesystem: string;
  mountedOn: string;
  type: string;
  options: string;
}

/** Undoes the octal escapes /proc/mounts uses for space, tab, newline and backslash. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/mounts (fstab format). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === '') continue;
    out.push({ filesystem: unescapeMountField(f[0]), mountedOn: unescapeMountField(f[1]), type: f[2] ?? '', options: f[3] ?? '' });
  }
  return out;
}

export interface MountsResult {
  stats: MountStat[];
  /** statfs failures, one per mount point that could not be measured; the mount is still listed with zero sizes */
  errors: Error[];
}

/**
 * Every mount with its size and available bytes (statfs block size × blocks / available blocks) for mount points
 * that are directories, as Talos's Mounts RPC reports them. Mount points that are files, or that vanished, keep zero
 * sizes; other statfs failures are returned in `errors` next to the list.
 */
export async function readMounts(proc = PROC): Promise<MountsResult> {
  const entries = parseMounts(await readText(`${proc}/mounts`));
  const errors: Error[] = [];
  const stats = await Promise.all(
    entries.map(async (m) => {
      const out = MountStat.fromPartial({ filesystem: m.filesystem, mountedOn: m.mountedOn });
      let isDir = false;
      try {
        isDir = (await stat(m.mountedOn)).isDirectory();
      } catch {
        isDir = false;
      }
      if (!isDir) return out;
      try {
        const s = await statfs(m.mountedOn, { bigint: true });
        out.size = (s.bsize * s.blocks).toString();
        out.available = (s.bsize * s.bavail).toString();
      } catch (e) {
        errors.push(e as Error);
      }
      return out;
    }),
  );
  return { stats, errors };
}
