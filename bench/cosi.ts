import pino from 'pino';
import { ControllerRuntime } from '../src/cosi/controller/runtime.js';
import { TransformController } from '../src/cosi/controller/generic/transform.js';
import { InMemoryState } from '../src/cosi/inmem.js';
import { type Kind, newResource } from '../src/cosi/resource.js';
import { State } from '../src/cosi/state.js';
import { type Figure, figure, median, percentile } from './results.js';

const K: Kind = { namespace: 'bench', type: 'Counters.bench.bronze.dev' };

interface Counter {
  n: number;
}

/** Updates per second of one resource while 10 watchers follow every change (in batches, as the controller runtime watches). */
async function updatesPerSecond(total: number): Promise<number> {
  const s = new InMemoryState({ historyCapacity: 4096 });
  const created = await s.create(newResource({ ...K, id: 'c' }, { n: 0 }));
  const ac = new AbortController();
  let received = 0;
  const watchers = Array.from({ length: 10 }, async () => {
    for await (const batch of await s.watchKindAggregated(K, {}, ac.signal)) {
      for (const ev of batch) if (ev.type === 'errored') throw new Error(`watcher fell behind: ${ev.error}`);
      received += batch.length;
    }
  });
  let cur = created;
  const start = performance.now();
  for (let i = 1; i <= total; i++) {
    cur.spec = { n: i };
    cur = await s.update(cur);
    // let the watchers run every so often, as a real event loop would
    if (i % 512 === 0) await new Promise((r) => setImmediate(r));
  }
  while (received < total * 10) await new Promise((r) => setImmediate(r));
  const secs = (performance.now() - start) / 1000;
  ac.abort();
  await Promise.allSettled(watchers);
  return total / secs;
}

/** Delivery latency of updates to 1,000 watchers, in milliseconds. */
async function watchLatency(rounds: number): Promise<number[]> {
  const s = new InMemoryState();
  let cur = await s.create(newResource({ ...K, id: 'c' }, { n: 0 }));
  const ac = new AbortController();
  // preallocated: growing a large array while measuring would show up as latency
  const samples = new Float64Array(1000 * rounds);
  let n = 0;
  let sentAt = 0;
  let got = 0;
  let roundDone: () => void = () => {};
  const watchers = Array.from({ length: 1000 }, async () => {
    for await (const _ of await s.watchKind(K, {}, ac.signal)) {
      samples[n++] = performance.now() - sentAt;
      if (++got === 1000) roundDone();
    }
  });
  for (let i = 0; i < rounds; i++) {
    got = 0;
    const done = new Promise<void>((r) => (roundDone = r));
    sentAt = performance.now();
    cur.spec = { n: i + 1 };
    cur = await s.update(cur);
    await done;
  }
  ac.abort();
  await Promise.allSettled(watchers);
  return Array.from(samples.subarray(0, n));
}

/** Time for a chain of five transform controllers to carry one input change to the end. */
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
        transform: (a, b) => {
          b.spec.n = a.spec.n + 1;
        },
      }),
    );
  }
  rt.start();
  const times: number[] = [];
  const last = kinds[5]!;
  await state.create(newResource({ ...kinds[0]!, id: 'x' }, { n: 0 }));
  await state.watchFor({ ...last, id: 'x' }, (r) => (r?.spec as Counter | undefined)?.n === 5);
  for (let i = 1; i <= rounds; i++) {
    const t0 = performance.now();
    const wait = state.watchFor({ ...last, id: 'x' }, (r) => (r?.spec as Counter | undefined)?.n === i * 10 + 5);
    await state.updateWithConflicts({ ...kinds[0]!, id: 'x' }, (r) => ((r.spec as Counter).n = i * 10));
    await wait;
    times.push(performance.now() - t0);
  }
  await rt.stop();
  return times;
}

export async function run(): Promise<Figure[]> {
  // warm up the JIT, then measure three times and take the median
  await updatesPerSecond(20_000);
  const rates = [];
  for (let i = 0; i < 3; i++) rates.push(await updatesPerSecond(200_000));
  await watchLatency(20);
  const lat = await watchLatency(200);
  const chain = await chainConverge(200);
  process.stderr.write(`cosi: updates/s runs ${rates.map((r) => Math.round(r)).join(', ')}; watch samples ${lat.length}; chain runs ${chain.length}\n`);
  return [
    figure('cosi.updates_per_s', median(rates), 'updates/s', '>= 500000'),
    figure('cosi.watch_p50_ms', percentile(lat, 50), 'ms'),
    figure('cosi.watch_p99_ms', percentile(lat, 99), 'ms', '<= 1'),
    figure('cosi.chain_converge_ms', median(chain), 'ms'),
  ];
}
