/**
 * The COSI runtime's figures: store throughput with watchers, watch delivery latency with many watchers, and how
 * fast a chain of controllers carries a change. Each is measured in several runs (after a warm-up run) and the
 * median of the runs is reported, with every run's value on stderr.
 */
import pino from 'pino';
import { TransformController } from '../src/cosi/controller/generic/transform.js';
import { ControllerRuntime } from '../src/cosi/controller/runtime.js';
import { InMemoryState } from '../src/cosi/inmem.js';
import { type Kind, newResource, type Resource } from '../src/cosi/resource.js';
import { State } from '../src/cosi/state.js';
import { type Figure, figure, median } from './results.js';

/** runs per figure (after one warm-up run); the median run is reported */
const RUNS = 7;
const K: Kind = { namespace: 'bench', type: 'Counters.bench.bronze.dev' };

interface Counter {
  n: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Updates per second of one resource while 10 watchers (aggregated, as the controller runtime watches) receive every
 * change. The writer gives the event loop a turn every 256 updates, as a real process does; the clock stops when
 * every watcher has every event. The store has Talos's history (8 growing to 1024 events).
 */
async function updatesPerSecond(updates: number): Promise<number> {
  const s = new InMemoryState();
  let cur: Resource = await s.create(newResource<Counter>({ ...K, id: 'c' }, { n: 0 }));
  const ac = new AbortController();
  let received = 0;
  let allReceived: () => void = () => {};
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  const watchers = await Promise.all(Array.from({ length: 10 }, () => s.watchKindAggregated(K, {}, ac.signal)));
  const readers = watchers.map(async (w) => {
    for await (const batch of w) {
      for (const ev of batch) if (ev.type === 'errored') throw new Error(`a watcher fell behind: ${ev.error}`);
      received += batch.length;
      if (received === updates * 10) allReceived();
    }
  });
  const start = performance.now();
  for (let i = 1; i <= updates; i++) {
    cur.spec = { n: i };
    cur = await s.update(cur);
    if ((i & 255) === 0) await turn();
  }
  await Promise.race([done, Promise.all(readers)]);
  const secs = (performance.now() - start) / 1000;
  ac.abort();
  await Promise.all(readers);
  return updates / secs;
}

/**
 * Delivery latency (ms) of updates to 1,000 watchers reading event by event: every delivery of `rounds` updates,
 * sorted. Each update is written at the start of a turn of the event loop and timed until each watcher has it.
 */
async function watchLatency(rounds: number): Promise<Float64Array> {
  const WATCHERS = 1000;
  const s = new InMemoryState();
  let cur: Resource = await s.create(newResource<Counter>({ ...K, id: 'c' }, { n: 0 }));
  const ac = new AbortController();
  const samples = new Float64Array(rounds * WATCHERS);
  let taken = 0;
  let sentAt = 0;
  let roundDone: () => void = () => {};
  const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => s.watchKind(K, {}, ac.signal)));
  const readers = watchers.map(async (w) => {
    for await (const _ of w) {
      samples[taken++] = performance.now() - sentAt;
      if (taken % WATCHERS === 0) roundDone();
    }
  });
  for (let i = 0; i < rounds; i++) {
    const delivered = new Promise<void>((resolve) => (roundDone = resolve));
    await turn();
    sentAt = performance.now();
    cur.spec = { n: i + 1 };
    cur = await s.update(cur);
    await delivered;
  }
  ac.abort();
  await Promise.all(readers);
  return samples.sort();
}

/** The p-th percentile (nearest rank) of sorted samples. */
const rank = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** Milliseconds for a chain of five transform controllers to carry one input change to its end, per round. */
async function chainConverge(rounds: number): Promise<number[]> {
  const kinds = Array.from({ length: 6 }, (_, i): Kind => ({ namespace: 'bench', type: `Links${i}s.bench.bronze.dev` }));
  const state = new State(new InMemoryState());
  const rt = new ControllerRuntime(state, pino({ level: 'silent' }));
  for (let i = 0; i < 5; i++) {
    rt.register(
      new TransformController<Counter, Counter>({
        name: `bench.Link${i}`,
        input: kinds[i]!,
        output: kinds[i + 1]!,
        emptySpec: () => ({ n: 0 }),
        mapID: (r) => r.metadata.id,
        transform: (a, b) => void (b.spec.n = a.spec.n + 1),
      }),
    );
  }
  const ac = new AbortController();
  let want = 5;
  let reached: () => void = () => {};
  const end = await state.watchKind(kinds[5]!, {}, ac.signal);
  const reader = (async () => {
    for await (const ev of end) if ((ev.resource?.spec as Counter | undefined)?.n === want) reached();
  })();
  const first = new Promise<void>((resolve) => (reached = resolve));
  rt.start();
  await state.create(newResource<Counter>({ ...kinds[0]!, id: 'x' }, { n: 0 }));
  await first;
  const times: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    want = i * 10 + 5;
    const converged = new Promise<void>((resolve) => (reached = resolve));
    await turn();
    const t0 = performance.now();
    await state.updateWithConflicts<Counter>({ ...kinds[0]!, id: 'x' }, (r) => void (r.spec.n = i * 10));
    await converged;
    times.push(performance.now() - t0);
  }
  ac.abort();
  await reader;
  await rt.stop();
  return times;
}

const fmt = (xs: number[], digits = 3) => xs.map((x) => x.toFixed(digits)).join(', ');

export async function run(): Promise<Figure[]> {
  const log = (s: string) => process.stderr.write(`cosi: ${s}\n`);
  await updatesPerSecond(20_000);
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rates.push(await updatesPerSecond(200_000));
  }
  log(`updates/s with 10 watchers, per run: ${fmt(rates, 0)}`);

  // 1,000 updates per run: the 99th percentile is that of a million deliveries, not of a handful of updates
  await watchLatency(100);
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sorted = await watchLatency(1000);
    p50s.push(rank(sorted, 50));
    p99s.push(rank(sorted, 99));
  }
  log(`watch delivery to 1,000 watchers, p50 per run (ms): ${fmt(p50s)}; p99 per run (ms): ${fmt(p99s)}`);

  await chainConverge(20);
  const chains: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    chains.push(median(await chainConverge(100)));
  }
  log(`5-controller chain convergence, median per run (ms): ${fmt(chains)}`);

  return [
    figure('cosi.updates_per_s', median(rates), 'updates/s', '>= 500000'),
    figure('cosi.watch_p50_ms', median(p50s), 'ms'),
    figure('cosi.watch_p99_ms', median(p99s), 'ms', '<= 1'),
    figure('cosi.chain_converge_ms', median(chains), 'ms'),
  ];
}
