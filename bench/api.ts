/**
 * The API path's figures, measured on a real process cluster (src/provision/process.ts running the built bundle
 * dist/bin/bronze.js): one control plane and three workers on 127.66.7.0/24, each a machined with its apid.
 *
 * - `direct`: the Version call straight to the control plane machined's API unix socket (`<state>/machined/machine.sock`,
 *   plaintext, no apid);
 * - `apid`: the same call through the control plane's apid over mTLS, with no `node`/`nodes` metadata, so apid
 *   proxies it to that same machined socket.
 * Both go through the project's client (src/client) on one channel each, encoding, decoding and timing the call the
 * same way, so their ratio shows what the apid hop costs. Latency is at concurrency 1 (blocks of calls alternating
 * between the two paths); throughput keeps 64 calls in flight for a fixed time, in pairs of runs (direct, then apid)
 * so that each apid run has its reference measured beside it: the ratio reported is the median of the pairs' ratios
 * (the machine's speed drifts over a benchmark's minute, and a pair sees the same machine), the rates the median runs.
 * On a 2-core machine the direct path is bound by the benchmark's own client process.
 *
 * Fan-out: Version through the control plane's apid with `nodes` naming 1, 4 or 16 targets. A 16-node cluster is too
 * heavy for a 2-core machine, so the 4 real nodes are named repeatedly, as Talos allows: 1 target = worker 1;
 * 4 targets = the control plane and the three workers; 16 targets = those four, four times each. Every target is a
 * real apid that answers (control plane apid → target apid over mTLS → its machined); every answer is checked.
 */
import { join } from 'node:path';
import { Client } from '../src/client/client.js';
import { clientOptionsFromContext } from '../src/client/from-talosconfig.js';
import { nodeResults } from '../src/client/results.js';
import { loadTalosconfig } from '../src/client/talosconfig.js';
import { quietIPServerNameWarning } from '../src/client/warnings.js';
import { clusterPids, fmt, ms, now, settle, spread, withCluster } from './cluster.js';
import { type Figure, figure, median, percentile } from './results.js';

const NAME = 'benchapi';
const CIDR = '127.66.7.0/24';
/** concurrency-1 calls per path, taken in alternating blocks */
const LATENCY_CALLS = 2000;
const LATENCY_BLOCK = 250;
/** calls kept in flight for the throughput figures, for how long per run, and how many runs per path */
const CONCURRENCY = 64;
const RUN_MS = 2000;
const RUNS = 9;
/** concurrency-1 fan-out calls per target count, taken in alternating blocks */
const FANOUT_CALLS = 500;
const FANOUT_BLOCK = 50;
/**
 * fan-out calls per target count before the measured ones: each process on the path sees one call per fan-out, and
 * the medians of blocks of 50 kept falling until about 2,000 of them (measured; after 600 they were still 1.5-2 times
 * their final value)
 */
const FANOUT_WARMUP = 2500;
const CALL_TIMEOUT_MS = 30_000;

const log = (s: string) => process.stderr.write(`api: ${s}\n`);

/** Per-call latency (ms) of `n` sequential calls. */
async function sequential(call: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await call();
    out.push(ms(t0, now()));
  }
  return out;
}

/** Calls per second with `concurrency` calls kept in flight for `durationMs` (calls started before the end finish). */
async function throughput(call: () => Promise<unknown>, concurrency: number, durationMs: number): Promise<number> {
  let done = 0;
  const t0 = now();
  const end = t0 + BigInt(durationMs) * 1_000_000n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end) {
        await call();
        done++;
      }
    }),
  );
  return done / (ms(t0, now()) / 1000);
}

export async function run(): Promise<Figure[]> {
  quietIPServerNameWarning();
  const clients: Client[] = [];
  return withCluster({ name: NAME, cidr: CIDR, controlplanes: 1, workers: 3, log }, async ({ info, talosconfig }) => {
    try {
      const ctx = (await loadTalosconfig(talosconfig)).contexts[NAME]!;
      const cp = info.nodes[0]!;
      const [w1, w2, w3] = info.nodes.slice(1).map((n) => n.address) as [string, string, string];
      const endpoint = info.apiPort === 50000 ? cp.address : `${cp.address}:${info.apiPort}`;
      const socket = join(cp.dir, 'machined', 'machine.sock');
      // no default nodes: without `nodes`/`node` metadata apid proxies to its own machined
      const direct = new Client({ ...clientOptionsFromContext(ctx), endpoints: [`unix://${socket}`], nodes: [] });
      const apid = new Client({ ...clientOptionsFromContext(ctx), endpoints: [endpoint], nodes: [] });
      clients.push(direct, apid);
      const opts = { timeout: CALL_TIMEOUT_MS };
      const callDirect = () => direct.machine.version({}, opts);
      const callApid = () => apid.machine.version({}, opts);

      const targets = { 1: [w1], 4: [cp.address, w1, w2, w3], 16: Array.from({ length: 4 }, () => [cp.address, w1, w2, w3]).flat() };
      const fanout = (n: 1 | 4 | 16) => async () => {
        const r = nodeResults(await apid.machine.version({}, { ...opts, nodes: targets[n] }));
        if (r.errors.length > 0 || r.messages.length !== n) {
          throw new Error(`fan-out to ${n}: ${r.messages.length} answers, errors: ${r.errors.map((e) => e.message).join('; ')}`);
        }
      };

      // every path answers (the workers' apids may still be taking their certificates), then the cluster is left to settle
      const ready = Date.now() + 60_000;
      for (;;) {
        try {
          await callDirect();
          await callApid();
          await fanout(16)();
          break;
        } catch (e) {
          if (Date.now() > ready) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      await settle(() => clusterPids(info), (l) => log(`cluster: ${l}`));

      log('warming up');
      // the client's TLS path takes longer to reach its speed than its plain one
      for (const call of [callDirect, callApid]) {
        await sequential(call, 500);
        await throughput(call, CONCURRENCY, 3000);
      }
      // every process on the path keeps getting faster for the first thousand or so calls (the JIT's tiers), and a
      // fan-out touches all of them: warm up until the figures hold still. The fan-out is measured right after, before
      // the throughput runs: those leave every process collecting their garbage for a while, and fan-out latencies
      // measured after them were up to half as high again for the next thousand calls.
      for (let i = 0; i < FANOUT_WARMUP / FANOUT_BLOCK; i++) for (const n of [1, 4, 16] as const) await sequential(fanout(n), FANOUT_BLOCK);
      const fan = { 1: [] as number[], 4: [] as number[], 16: [] as number[] };
      for (let i = 0; i < FANOUT_CALLS / FANOUT_BLOCK; i++) {
        for (const n of [1, 4, 16] as const) fan[n].push(...(await sequential(fanout(n), FANOUT_BLOCK)));
      }
      log(`fan-out through the control plane apid, ${FANOUT_CALLS} calls each, p50 (p99) ms: ${([1, 4, 16] as const).map((n) => `${n} targets ${fmt([median(fan[n])])} (${fmt([percentile(fan[n], 99)])})`).join('; ')}`);

      const lat = { direct: [] as number[], apid: [] as number[] };
      for (let i = 0; i < LATENCY_CALLS / LATENCY_BLOCK; i++) {
        lat.direct.push(...(await sequential(callDirect, LATENCY_BLOCK)));
        lat.apid.push(...(await sequential(callApid, LATENCY_BLOCK)));
      }
      log(`concurrency 1, ${LATENCY_CALLS} calls each: direct p50 ${fmt([median(lat.direct)])} p99 ${fmt([percentile(lat.direct, 99)])} ms; apid p50 ${fmt([median(lat.apid)])} p99 ${fmt([percentile(lat.apid, 99)])} ms`);

      const rps = { direct: [] as number[], apid: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        rps.direct.push(await throughput(callDirect, CONCURRENCY, RUN_MS));
        rps.apid.push(await throughput(callApid, CONCURRENCY, RUN_MS));
      }
      const ratios = rps.apid.map((a, i) => a / rps.direct[i]!);
      log(`concurrency ${CONCURRENCY}, ${RUN_MS} ms per run, calls/s per run: direct ${fmt(rps.direct, 0)}; apid ${fmt(rps.apid, 0)}; apid ÷ direct per pair ${fmt(ratios)} (${spread(ratios)})`);

      const directRps = median(rps.direct);
      const apidRps = median(rps.apid);
      return [
        figure('api.direct_p50_ms', median(lat.direct), 'ms'),
        figure('api.apid_p50_ms', median(lat.apid), 'ms'),
        figure('api.apid_p99_ms', percentile(lat.apid, 99), 'ms'),
        figure('api.direct_rps', directRps, 'calls/s'),
        figure('api.apid_rps', apidRps, 'calls/s'),
        figure('api.apid_vs_direct_ratio', median(ratios), 'ratio', '>= 0.77'),
        figure('api.fanout1_p50_ms', median(fan[1]), 'ms'),
        figure('api.fanout4_p50_ms', median(fan[4]), 'ms'),
        figure('api.fanout16_p50_ms', median(fan[16]), 'ms'),
        figure('api.fanout16_vs_1', median(fan[16]) / median(fan[1]), 'ratio', '<= 2.0'),
      ];
    } finally {
      for (const c of clients) c.close();
    }
  });
}
