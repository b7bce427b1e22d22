/**
 * `boot.<arch>_s`: seconds from starting QEMU (TCG, 2 GiB, kernel + initramfs, the config by URL) to the first
 * Version answered over mTLS, median of three boots per architecture; beside it `boot.floor_<arch>_s`, the same from
 * QEMU's start to the first line of a Node that is alone in the initramfs of the same kernel (scripts/image/floor).
 * Each boot's timeline (the kernel's start, machined's start and its parts, the config, apid's certificates, apid
 * serving) is logged from the node's logs. Skipped, with the reason, where the image or QEMU is missing.
 */
import { bootTimeline, bootVM, cannotBoot, firstVersion, floorBoots, formatTimeline } from './qemu.js';
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
        const v = await firstVersion(vm, DEADLINE_MS[arch]!);
        xs.push(v);
        // where the time went (seconds since QEMU started); a node that cannot tell does not fail the figure
        try {
          log(`${arch} boot ${i + 1}: ${formatTimeline(await bootTimeline(vm, v))}`);
        } catch (e) {
          log(`${arch} boot ${i + 1}: no timeline: ${(e as Error).message}`);
        }
      } finally {
        await vm.stop();
      }
    }
    log(`${arch}: QEMU start to first Version: ${fmt(xs, 2)} s (${spread(xs, 2)})`);
    out.push(figure(`boot.${arch}_s`, median(xs), 's', '<= 6'));
  }
  for (const arch of ['amd64', 'arm64'] as const) {
    const xs = await floorBoots(arch, BOOTS, DEADLINE_MS[arch]!);
    if (typeof xs === 'string') {
      log(`${arch} floor: skipped: ${xs}`);
      out.push(skipped(`boot.floor_${arch}_s`, 's', undefined, xs));
      continue;
    }
    log(`${arch} floor: QEMU start to Node's first line: ${fmt(xs, 2)} s (${spread(xs, 2)})`);
    out.push(figure(`boot.floor_${arch}_s`, median(xs), 's'));
  }
  return out;
}
