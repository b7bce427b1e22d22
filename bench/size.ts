/**
 * `size.<artifact>_<arch>_mib`: the byte sizes of the image's artifacts, read from `_out/manifest-<arch>.json` (written
 * by `make image`); the squashfs has a goal. Skipped where the manifest is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Figure, figure, skipped } from './results.js';

const root = new URL('..', import.meta.url).pathname;
const ARTIFACTS = ['squashfs', 'initramfs', 'iso', 'vmlinuz'] as const;
const MiB = 1024 * 1024;

export async function run(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of ['amd64', 'arm64'] as const) {
    const path = join(root, '_out', `manifest-${arch}.json`);
    const manifest = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, { bytes: number } | undefined>) : undefined;
    for (const a of ARTIFACTS) {
      const name = `size.${a}_${arch}_mib`;
      const goal = a === 'squashfs' ? ('<= 52' as const) : undefined;
      const bytes = manifest?.[a]?.bytes;
      if (bytes === undefined) out.push(skipped(name, 'MiB', goal, manifest ? `${path} has no ${a}` : `${path} is missing (make image ARCH=${arch})`));
      else out.push(figure(name, bytes / MiB, 'MiB', goal));
    }
  }
  return out;
}
