/**
 * `apply.settle_ms`: how long a configuration change takes to reach the resources derived from it, on a process node.
 * Each round applies the node's own config with a new hostname (ApplyConfiguration, mode no-reboot, through apid, as
 * `bronzectl apply-config` does) and waits on a watch of HostnameStatus, the end of the chain MachineConfig →
 * HostnameConfig → HostnameSpec → HostnameStatus, for the new name. The figure is the median over the rounds, from
 * sending the request to the watch event; the acknowledgement alone is reported beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplyConfigurationRequest_Mode as Mode } from '../src/api/gen/machine/machine.js';
import { Client } from '../src/client/client.js';
import { clientOptionsFromContext } from '../src/client/from-talosconfig.js';
import { loadTalosconfig } from '../src/client/talosconfig.js';
import { quietIPServerNameWarning } from '../src/client/warnings.js';
import { clusterPids, delay, fmt, ms, now, settle, spread, until, withCluster } from './cluster.js';
import { type Figure, figure, median } from './results.js';

const NAME = 'benchapply';
const CIDR = '127.66.9.0/24';
const WARMUP = 5;
const ROUNDS = Number(process.env.BRONZE_BENCH_APPLY_ROUNDS ?? 40);
const TIMEOUT_MS = 10_000;
const GAP_MS = 200;

const log = (s: string) => process.stderr.write(`apply: ${s}\n`);

export async function run(): Promise<Figure[]> {
  quietIPServerNameWarning();
  return withCluster({ name: NAME, cidr: CIDR, controlplanes: 1, workers: 0, log }, async ({ info, talosconfig }) => {
    const node = info.nodes[0]!;
    const ctx = (await loadTalosconfig(talosconfig)).contexts[NAME]!;
    const endpoint = info.apiPort === 50000 ? node.address : `${node.address}:${info.apiPort}`;
    const client = new Client({ ...clientOptionsFromContext(ctx), endpoints: [endpoint], nodes: [] });
    const ac = new AbortController();
    try {
      const config = readFileSync(join(node.dir, 'config.yaml'), 'utf8');
      if (!/^auto: stable$/m.test(config)) throw new Error(`${join(node.dir, 'config.yaml')}: no HostnameConfig document with "auto: stable" to replace`);
      await until(() => client.machine.version({}, { timeout: TIMEOUT_MS }), 60_000);
      await settle(() => clusterPids(info), (l) => log(`node: ${l}`));

      // one watch for the whole run; each round waits for the name it applied
      let waiting: { name: string; resolve: () => void } | undefined;
      const watch = (async () => {
        for await (const m of client.cosi.watch({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { signal: ac.signal })) {
          for (const e of m.event) {
            const yaml = e.resource?.spec?.yamlSpec ?? '';
            if (waiting && yaml.split('\n').includes(`hostname: ${waiting.name}`)) waiting.resolve();
          }
        }
      })().catch((e: Error) => {
        if (!ac.signal.aborted) throw e;
      });

      const settleMs: number[] = [];
      const ackMs: number[] = [];
      for (let i = 0; i < WARMUP + ROUNDS; i++) {
        // each round starts on an idle node, as a user's apply does: the work the last one set off (certificates with
        // the new name, apid reloading them) is over
        await delay(GAP_MS);
        const name = `bench-apply-${i}`;
        const seen = new Promise<void>((resolve) => (waiting = { name, resolve }));
        const t0 = now();
        const r = await client.machine.applyConfiguration({ data: Buffer.from(config.replace(/^auto: stable$/m, `hostname: ${name}`)), mode: Mode.NO_REBOOT }, { timeout: TIMEOUT_MS });
        const t1 = now();
        const details = r.messages[0]?.modeDetails ?? '';
        if (!/without a reboot/.test(details)) throw new Error(`applying hostname ${name}: ${details || 'no answer'}`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([seen, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`HostnameStatus did not become ${name} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)))]);
        clearTimeout(timer);
        const t2 = now();
        if (i >= WARMUP) {
          ackMs.push(ms(t0, t1));
          settleMs.push(ms(t0, t2));
        }
      }
      ac.abort();
      await watch;
      log(`${ROUNDS} rounds: settled p50 ${fmt([median(settleMs)])} ms (${spread(settleMs)}); acknowledged p50 ${fmt([median(ackMs)])} ms (${spread(ackMs)})`);
      return [figure('apply.settle_ms', median(settleMs), 'ms', '<= 20'), figure('apply.ack_ms', median(ackMs), 'ms')];
    } finally {
      ac.abort();
      client.close();
    }
  });
}
