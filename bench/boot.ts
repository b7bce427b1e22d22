/**
 * `boot.<arch>_s`: seconds from starting QEMU (TCG, 2 GiB, kernel + initramfs, the config by URL) to the first
 * Version answered over mTLS, median of three boots per architecture. Skipped, with the reason, where the image or
 * QEMU is missing.
 */
import { bootVM, cannotBoot, firstVersion } from './qemu.js';
import { fmt, spread } from './cluster.js';
import { type Figure, figure, median, skipped } from './results.js';

const BOOTS = 3;
const DEADLINE_MS: Record<string, number> = { amd64: 120_000, arm64: 180_000 };
const log = (s: string) => process.stderr.write(`boot: ${s}\n`);

export async function run(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of ['amd64', 'arm64'] as const) {
    const why = cannotBoot(arch);
    if (why) {
      log(`${arch}: skipped: ${why}`);
      out.push(skipped(`boot.${arch}_s`, 's', '<= 6', why));
      continue;
    }
    const xs: number[] = [];
    for (let i = 0; i < BOOTS; i++) {
      const vm = await bootVM(arch);
      try {
        xs.push(await firstVersion(vm, DEADLINE_MS[arch]!));
      } finally {
        await vm.stop();
      }
    }
    log(`${arch}: QEMU start to first Version: ${fmt(xs, 2)} s (${spread(xs, 2)})`);
    out.push(figure(`boot.${arch}_s`, median(xs), 's', '<= 6'));
  }
  out.push(skipped('boot.floor_amd64_s', 's', undefined, 'the bare-Node floor image is not built by make image'));
  out.push(skipped('boot.floor_arm64_s', 's', undefined, 'the bare-Node floor image is not built by make image'));
  return out;
}
