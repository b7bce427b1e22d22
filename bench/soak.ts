/**
 * `soak.rss_growth_pct`: 1,000 Logs-follow streams held open through apid for 60 s on a process control plane, while
 * the followed log (machined's) keeps growing: the node's own config is applied again ten times a second (no change,
 * one log line each), so every stream carries messages all along. The resident memory of machined + apid is read
 * after a 10 s warm-up and at the end (median of five readings a second apart each time); the growth between them is
 * the figure.
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerDriver } from '../src/api/gen/common/common.js';
import { ApplyConfigurationRequest_Mode as Mode } from '../src/api/gen/machine/machine.js';
import { Client } from '../src/client/client.js';
import { clientOptionsFromContext } from '../src/client/from-talosconfig.js';
import { loadTalosconfig } from '../src/client/talosconfig.js';
import { quietIPServerNameWarning } from '../src/client/warnings.js';
import { clusterPids, delay, fmt, roleOf, rssMiB, settle, until, withCluster } from './cluster.js';
import { type Figure, figure } from './results.js';

const NAME = 'benchsoak';
const STREAMS = 1000;
/** streams per client connection (apid allows 1,000 concurrent streams per connection) */
const PER_CONNECTION = 250;
const WARMUP_MS = 10_000;
const SOAK_MS = 60_000;
const log = (s: string) => process.stderr.write(`soak: ${s}\n`);

export async function run(): Promise<Figure[]> {
  quietIPServerNameWarning();
  return withCluster({ name: NAME, cidr: '127.66.12.0/24', controlplanes: 1, workers: 0, log }, async ({ info, talosconfig }) => {
    const node = info.nodes[0]!;
    const ctx = (await loadTalosconfig(talosconfig)).contexts[NAME]!;
    const endpoint = info.apiPort === 50000 ? node.address : `${node.address}:${info.apiPort}`;
    const clients = Array.from({ length: STREAMS / PER_CONNECTION }, () => new Client({ ...clientOptionsFromContext(ctx), endpoints: [endpoint], nodes: [] }));
    const control = new Client({ ...clientOptionsFromContext(ctx), endpoints: [endpoint], nodes: [] });
    const ac = new AbortController();
    // every follow stream listens to this one signal
    setMaxListeners(0, ac.signal);
    const config = Buffer.from(readFileSync(join(node.dir, 'config.yaml')));
    const ours = () => clusterPids(info).filter((p) => ['machined', 'apid'].includes(roleOf(p) ?? ''));
    /** the median total of five readings, and each process's share in the median reading */
    const rss = async () => {
      const xs: { total: number; parts: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const parts = ours().map((p) => ({ role: roleOf(p) ?? '?', mib: rssMiB(p) ?? 0 }));
        xs.push({ total: parts.reduce((s, p) => s + p.mib, 0), parts: parts.map((p) => `${p.role} ${p.mib.toFixed(1)}`).join(', ') });
        await delay(1000);
      }
      xs.sort((a, b) => a.total - b.total);
      return xs[2]!;
    };
    try {
      await until(() => control.machine.version({}, { timeout: 5000 }), 60_000);
      await settle(() => clusterPids(info), (l) => log(`node: ${l}`));
      let bytes = 0;
      let open = 0;
      const streams = Array.from({ length: STREAMS }, async (_, i) => {
        const c = clients[Math.floor(i / PER_CONNECTION)]!;
        open++;
        try {
          for await (const m of c.machine.logs({ namespace: 'system', id: 'machined', driver: ContainerDriver.CONTAINERD, follow: true, tailLines: 1 }, { signal: ac.signal })) bytes += m.bytes.length;
        } catch (e) {
          if (!ac.signal.aborted) throw e;
        } finally {
          open--;
        }
      });
      const failed = Promise.all(streams).then(() => {
        if (!ac.signal.aborted) throw new Error('a follow stream ended before the soak did');
      });
      failed.catch(() => undefined);
      const producer = (async () => {
        while (!ac.signal.aborted) {
          await control.machine.applyConfiguration({ data: config, mode: Mode.NO_REBOOT }, { timeout: 10_000 });
          await delay(100);
        }
      })();
      producer.catch(() => undefined);
      const t0 = Date.now();
      await Promise.race([delay(WARMUP_MS), failed]);
      const { total: before, parts: partsBefore } = await rss();
      log(`after ${WARMUP_MS / 1000} s: ${open} streams open, ${(bytes / 1024 / 1024).toFixed(1)} MiB delivered, machined + apid ${fmt([before], 1)} MiB (${partsBefore})`);
      await Promise.race([delay(Math.max(0, t0 + SOAK_MS - Date.now() - 5000)), failed]);
      const { total: after, parts: partsAfter } = await rss();
      log(`after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${open} streams open, ${(bytes / 1024 / 1024).toFixed(1)} MiB delivered, machined + apid ${fmt([after], 1)} MiB (${partsAfter})`);
      if (open !== STREAMS) throw new Error(`${STREAMS - open} of ${STREAMS} streams ended early`);
      ac.abort();
      await producer.catch(() => undefined);
      await Promise.allSettled(streams);
      return [figure('soak.rss_growth_pct', ((after - before) / before) * 100, '%', '<= 10'), figure('soak.rss_after_warmup_mib', before, 'MiB')];
    } finally {
      ac.abort();
      for (const c of [...clients, control]) c.close();
    }
  });
}
