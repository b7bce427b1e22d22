/**
 * `memory.process_controlplane_rss_mib` and `memory.qemu_controlplane_rss_mib`: the resident memory of machined + apid
 * + trustd on an idle, configured control plane. On the process platform it is read from /proc of the node's
 * processes; under QEMU (amd64 image, 2 GiB) from the node's own Processes API (its /proc), once the node is idle.
 * The median of five readings a second apart is reported.
 */
import { bootVM, cannotBoot, firstVersion } from './qemu.js';
import { clusterPids, delay, fmt, roleOf, rssMiB, settle, withCluster } from './cluster.js';
import { type Figure, figure, median, skipped } from './results.js';

const ROLES = new Set(['machined', 'apid', 'trustd']);
const READINGS = 5;
const log = (s: string) => process.stderr.write(`memory: ${s}\n`);

async function readings(read: () => Promise<number>): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < READINGS; i++) {
    xs.push(await read());
    await delay(1000);
  }
  return xs;
}

export async function run(): Promise<Figure[]> {
  const out: Figure[] = [];
  const proc = await withCluster({ name: 'benchmem', cidr: '127.66.11.0/24', controlplanes: 1, workers: 0, log }, async ({ info }) => {
    await settle(() => clusterPids(info), (l) => log(`node: ${l}`));
    return readings(async () => {
      let sum = 0;
      for (const pid of clusterPids(info)) if (ROLES.has(roleOf(pid) ?? '')) sum += rssMiB(pid) ?? 0;
      return sum;
    });
  });
  log(`process control plane, machined + apid + trustd: ${fmt(proc, 1)} MiB`);
  out.push(figure('memory.process_controlplane_rss_mib', median(proc), 'MiB', '<= 130'));

  const why = cannotBoot('amd64');
  if (why) {
    out.push(skipped('memory.qemu_controlplane_rss_mib', 'MiB', '<= 130', why));
    return out;
  }
  const vm = await bootVM('amd64');
  try {
    await firstVersion(vm, 120_000);
    // idle: the boot's work is over once the services have settled
    await delay(10_000);
    const qemu = await readings(async () => {
      const ps = (await vm.client.machine.processes({}, { timeout: 10_000 })).messages[0]?.processes ?? [];
      const ours = ps.filter((p) => ROLES.has(p.command) || p.args.split(' ').some((a) => ROLES.has(a)));
      return ours.reduce((s, p) => s + Number(p.residentMemory) / 1024 / 1024, 0);
    });
    log(`QEMU control plane, machined + apid + trustd: ${fmt(qemu, 1)} MiB`);
    out.push(figure('memory.qemu_controlplane_rss_mib', median(qemu), 'MiB', '<= 130'));
  } finally {
    await vm.stop();
  }
  return out;
}
