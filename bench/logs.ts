/**
 * `logs.follow_mb_s`: how fast a followed service log reaches a client through apid (`bronzectl logs -f`), beside the
 * same stream read straight from machined's socket (`logs.follow_direct_mb_s`) and their ratio.
 *
 * A machined of the process platform runs in this process with its apid as a separate process (from the built
 * bundle), so that the benchmark can write into a service log of the node: a log named `bench` gets 100-byte lines
 * as fast as the reader takes them (never more than half the log's memory ahead of it, so no byte is dropped), and a
 * Logs stream with follow reads them. Each run moves 64 MiB; the median of the runs is reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerDriver } from '../src/api/gen/common/common.js';
import { Client } from '../src/client/client.js';
import { clientOptionsFromContext } from '../src/client/from-talosconfig.js';
import { quietIPServerNameWarning } from '../src/client/warnings.js';
import { generateBundle } from '../src/config/generate/config.js';
import { ConfigStore } from '../src/machined/config-store.js';
import { startMachined } from '../src/machined/main.js';
import { freePort, listening } from '../test/helpers/ports.js';
import { BUNDLE, delay, ensureBuilt, fmt, ms, now, spread, until } from './cluster.js';
import { type Figure, figure, median } from './results.js';

const ADDRESS = '127.66.10.2';
const MiB = 1024 * 1024;
const PER_RUN = 64 * MiB;
const RUNS = 5;
/** the log's memory (LogBuffer's default) and how far the writer may run ahead of the reader */
const AHEAD = 512 * 1024;
const LINE = `${'x'.repeat(99)}\n`;

const log = (s: string) => process.stderr.write(`logs: ${s}\n`);

export async function run(): Promise<Figure[]> {
  quietIPServerNameWarning();
  if (await listening(ADDRESS, 50000)) throw new Error(`${ADDRESS}:50000 is taken: an interrupted run may still be running`);
  ensureBuilt(log);
  const dir = mkdtempSync(join(tmpdir(), 'bronze-bench-logs-'));
  const ac = new AbortController();
  const clients: Client[] = [];
  try {
    const bundle = await generateBundle({ clusterName: 'benchlogs', endpoint: `https://${ADDRESS}:6443` });
    new ConfigStore(dir).write(Buffer.from(bundle.controlplane.toString()));
    const node = await startMachined({
      stateDir: dir,
      address: ADDRESS,
      apiPort: 50000,
      trustdPort: await freePort(ADDRESS),
      apidCommand: [process.execPath, BUNDLE, 'apid'],
      trustdCommand: [process.execPath, BUNDLE, 'trustd'],
      signal: ac.signal,
    });
    try {
      await node.waitForLog('apid', 'apid serving', 60_000);
      await node.booted;
      const ctx = bundle.talosconfig.contexts.benchlogs!;
      const apid = new Client(clientOptionsFromContext(ctx, { endpoints: [ADDRESS], nodes: [] }));
      const direct = new Client({ ...clientOptionsFromContext(ctx), endpoints: [`unix://${node.machineSocket}`], nodes: [] });
      clients.push(apid, direct);
      await until(() => apid.machine.version({}, { timeout: 5000 }), 30_000);
      const sink = node.logs.serviceLog('bench');

      /** One run: `bytes` written into the log while a follower reads them; returns MB/s as the follower saw them. */
      const once = async (c: Client, bytes: number): Promise<number> => {
        const stop = new AbortController();
        let received = 0;
        /** what the follower has received when the measured bytes start, and when it is done */
        let base = 0;
        let goal = Number.POSITIVE_INFINITY;
        let wake: (() => void) | undefined;
        let t0 = now();
        const reader = (async () => {
          for await (const m of c.machine.logs({ namespace: 'system', id: 'bench', driver: ContainerDriver.CONTAINERD, follow: true, tailLines: 0 }, { signal: stop.signal })) {
            received += m.bytes.length;
            wake?.();
            if (received >= goal) break;
          }
        })();
        // with tailLines 0 the follower sees only lines written after machined opened its stream: a short line is
        // written until one comes back, and the measured bytes start after it
        const started = Date.now() + 30_000;
        while (received === 0) {
          if (Date.now() > started) throw new Error('the Logs stream passed on nothing within 30 s');
          sink.write('sync\n');
          await Promise.race([new Promise<void>((r) => (wake = r)), delay(20)]);
        }
        base = received;
        goal = base + bytes;
        t0 = now();
        const block = LINE.repeat(AHEAD / 2 / LINE.length);
        let written = 0;
        while (written < bytes) {
          while (written - (received - base) >= AHEAD) await new Promise<void>((r) => (wake = r));
          sink.write(block);
          written += block.length;
          await new Promise((r) => setImmediate(r));
        }
        await reader;
        const t1 = now();
        stop.abort();
        return (received - base) / MiB / (ms(t0, t1) / 1000);
      };

      log('warming up');
      await once(direct, 8 * MiB);
      await once(apid, 8 * MiB);
      const runs = { direct: [] as number[], apid: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        runs.direct.push(await once(direct, PER_RUN));
        runs.apid.push(await once(apid, PER_RUN));
      }
      log(`${RUNS} runs of ${PER_RUN / MiB} MiB, MiB/s: direct ${fmt(runs.direct, 1)} (${spread(runs.direct, 1)}); apid ${fmt(runs.apid, 1)} (${spread(runs.apid, 1)})`);
      const a = median(runs.apid);
      const d = median(runs.direct);
      return [figure('logs.follow_mb_s', a, 'MiB/s'), figure('logs.follow_direct_mb_s', d, 'MiB/s'), figure('logs.follow_apid_vs_direct_ratio', a / d, 'ratio')];
    } finally {
      for (const c of clients) c.close();
      ac.abort();
      await node.stop();
    }
  } finally {
    ac.abort();
    rmSync(dir, { recursive: true, force: true });
  }
}
