import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { StateError } from '../errors.js';
import { InMemoryState } from '../inmem.js';
import { type Kind, newResource } from '../resource.js';
import { State } from '../state.js';
import type { Controller, ControllerAdapter, Input, Output } from './controller.js';
import { MergeController } from './generic/merge.js';
import { TransformController } from './generic/transform.js';
import { ControllerRuntime, dependencyGraphDot } from './runtime.js';

const log = pino({ level: 'silent' });
const NS = 'test';
const kind = (t: string): Kind => ({ namespace: NS, type: `${t}s.test.bronze.dev` });
const A = kind('Alpha');
const B = kind('Beta');

interface V {
  value: number;
}

/** Resolves once `check` holds, re-checking after every change of the kinds; fails after `ms`. */
async function until(s: State, kinds: Kind[], check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('condition not reached in time')), ms);
  const changed: (() => void)[] = [];
  let dirty = false;
  const wake = () => {
    dirty = true;
    changed.splice(0).forEach((f) => f());
  };
  const watches = kinds.map(async (k) => {
    try {
      for await (const _ of s.watchKind(k, {}, ac.signal)) wake();
    } catch {
      /* aborted */
    }
  });
  try {
    for (;;) {
      dirty = false;
      if (await check()) return;
      if (ac.signal.aborted) throw ac.signal.reason;
      if (!dirty) await new Promise<void>((r) => {
        changed.push(r);
        ac.signal.addEventListener('abort', () => r(), { once: true });
      });
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
    await Promise.allSettled(watches);
  }
}

const values = async (s: State, k: Kind) => Object.fromEntries((await s.list(k)).map((r) => [r.metadata.id, (r.spec as V).value]));

function doubler(name: string, from: Kind, to: Kind, strong = false) {
  return new TransformController<V, V>({
    name,
    input: from,
    output: to,
    strong,
    emptySpec: () => ({ value: 0 }),
    mapID: (r) => r.metadata.id,
    transform: (i, o) => {
      o.spec.value = i.spec.value * 2;
    },
  });
}

async function withRuntime(fn: (s: State, rt: ControllerRuntime) => Promise<void>, controllers: Controller[], backoffBaseMs = 5, onError?: (name: string, e: unknown) => void) {
  const s = new State(new InMemoryState());
  const rt = new ControllerRuntime(s, log, { backoffBaseMs, backoffMaxMs: 200, onError });
  for (const c of controllers) rt.register(c);
  rt.start();
  try {
    await fn(s, rt);
  } finally {
    await rt.stop();
  }
}

describe('controller runtime conformance', () => {
  it('keeps 1:1 transform outputs in step with their inputs', () =>
    withRuntime(
      async (s) => {
        for (const [id, v] of [['a', 1], ['b', 2], ['c', 3]] as const) await s.create(newResource({ ...A, id }, { value: v }));
        await until(s, [B], async () => JSON.stringify(await values(s, B)) === JSON.stringify({ a: 2, b: 4, c: 6 }));
        const out = await s.get({ ...B, id: 'a' });
        assert.equal(out.metadata.owner, 'test.Doubler');
        await s.updateWithConflicts({ ...A, id: 'b' }, (r) => ((r.spec as V).value = 10));
        await s.destroy({ ...A, id: 'c' });
        await until(s, [B], async () => JSON.stringify(await values(s, B)) === JSON.stringify({ a: 2, b: 20 }));
      },
      [doubler('test.Doubler', A, B)],
    ));

  it('converges a chain of five controllers after one input change', () => {
    const kinds = ['C0', 'C1', 'C2', 'C3', 'C4', 'C5'].map(kind);
    return withRuntime(
      async (s) => {
        await s.create(newResource({ ...kinds[0]!, id: 'x' }, { value: 1 }));
        await until(s, [kinds[5]!], async () => (await values(s, kinds[5]!)).x === 32);
        await s.updateWithConflicts({ ...kinds[0]!, id: 'x' }, (r) => ((r.spec as V).value = 3));
        await until(s, [kinds[5]!], async () => (await values(s, kinds[5]!)).x === 96);
      },
      kinds.slice(0, 5).map((k, i) => doubler(`test.Chain${i}`, k, kinds[i + 1]!)),
    );
  });

  it('cascades teardown through strong inputs: downstream outputs go first, then the input is released', () => {
    const kinds = ['D0', 'D1', 'D2'].map(kind);
    return withRuntime(
      async (s) => {
        await s.create(newResource({ ...kinds[0]!, id: 'x' }, { value: 1 }));
        await until(s, [kinds[2]!], async () => (await values(s, kinds[2]!)).x === 4);
        assert.deepEqual((await s.get({ ...kinds[0]!, id: 'x' })).metadata.finalizers, ['test.D01']);
        assert.deepEqual((await s.get({ ...kinds[1]!, id: 'x' })).metadata.finalizers, ['test.D12']);
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(new Error('teardown did not complete')), 5000);
        await s.teardownAndDestroy({ ...kinds[0]!, id: 'x' }, {}, ac.signal);
        clearTimeout(timer);
        assert.deepEqual(await s.list(kinds[1]!), []);
        assert.deepEqual(await s.list(kinds[2]!), []);
      },
      [doubler('test.D01', kinds[0]!, kinds[1]!, true), doubler('test.D12', kinds[1]!, kinds[2]!, true)],
    );
  });

  it('restarts a failing controller with growing backoff until it converges', async () => {
    const times: number[] = [];
    let failures = 0;
    const flaky: Controller = {
      name: 'test.Flaky',
      inputs: (): Input[] => [{ ...A, kind: 'weak' }],
      outputs: (): Output[] => [{ type: B.type, kind: 'exclusive' }],
      async run(r: ControllerAdapter) {
        for await (const _ of r.events()) {
          if (failures < 4) {
            failures++;
            times.push(Date.now());
            throw new Error(`transient failure ${failures}`);
          }
          for (const i of await r.list<V>(A)) await r.modify<V>({ ...B, id: i.metadata.id }, () => ({ value: 0 }), (o) => (o.spec.value = i.spec.value));
          r.resetRestartBackoff();
        }
      },
    };
    await withRuntime(
      async (s, rt) => {
        await s.create(newResource({ ...A, id: 'a' }, { value: 7 }));
        await until(s, [B], async () => (await values(s, B)).a === 7);
        const st = rt.stats('test.Flaky')!;
        assert.equal(st.restarts, 4);
        assert.equal(st.lastError, 'transient failure 4');
        // delays double (with jitter): the last gap is clearly longer than the first
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        assert.ok(gaps[2]! > gaps[0]!, `backoff did not grow: ${gaps.join(', ')}`);
      },
      [flaky],
      20,
    );
  });

  it('survives a controller that throws non-errors and synchronous bugs', async () => {
    let n = 0;
    const panicky: Controller = {
      name: 'test.Panicky',
      inputs: (): Input[] => [{ ...A, kind: 'weak' }],
      outputs: (): Output[] => [{ type: B.type, kind: 'exclusive' }],
      run(r: ControllerAdapter) {
        n++;
        if (n === 1) throw 'a string, not an Error';
        if (n === 2) return Promise.reject(new TypeError('undefined is not a function'));
        return (async () => {
          for await (const _ of r.events()) await r.modify<V>({ ...B, id: 'ok' }, () => ({ value: 0 }), (o) => (o.spec.value = 1));
        })();
      },
    };
    await withRuntime(
      async (s, rt) => {
        await until(s, [B], async () => (await values(s, B)).ok === 1);
        assert.equal(rt.stats('test.Panicky')!.restarts, 2);
      },
      [panicky],
    );
  });

  it('coalesces bursts of input changes into few passes', async () => {
    let passes = 0;
    const counter: Controller = {
      name: 'test.Counter',
      inputs: (): Input[] => [{ ...A, kind: 'weak' }],
      outputs: (): Output[] => [{ type: B.type, kind: 'exclusive' }],
      async run(r: ControllerAdapter) {
        for await (const _ of r.events()) {
          passes++;
          const all = await r.list<V>(A);
          await r.modify<V>({ ...B, id: 'sum' }, () => ({ value: 0 }), (o) => (o.spec.value = all.reduce((a, x) => a + x.spec.value, 0)));
        }
      },
    };
    await withRuntime(
      async (s) => {
        await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(newResource({ ...A, id: `r${i}` }, { value: 1 }))));
        await until(s, [B], async () => (await values(s, B)).sum === 200);
        assert.ok(passes < 50, `${passes} passes for 200 changes`);
      },
      [counter],
    );
  });

  it('refuses writes to undeclared outputs and conflicting exclusive outputs', async () => {
    const rogue: Controller = {
      name: 'test.Rogue',
      inputs: (): Input[] => [],
      outputs: (): Output[] => [{ type: B.type, kind: 'exclusive' }],
      async run(r: ControllerAdapter) {
        for await (const _ of r.events()) await r.create(newResource({ ...A, id: 'nope' }, { value: 1 }));
      },
    };
    let failed: (e: unknown) => void = () => {};
    const failure = new Promise<unknown>((resolve) => (failed = resolve));
    await withRuntime(
      async (s, rt) => {
        const err = await failure;
        assert.ok(err instanceof StateError && err.code === 'BRONZE_COSI_OUTPUT_NOT_DECLARED');
        assert.match(rt.stats('test.Rogue')!.lastError ?? '', /does not declare Alphas\.test\.bronze\.dev as an output/);
        assert.deepEqual(await s.list(A), []);
      },
      [rogue],
      5,
      (_name, e) => failed(e),
    );
    const rt = new ControllerRuntime(new State(new InMemoryState()), log);
    rt.register(doubler('test.One', A, B));
    assert.throws(() => rt.register(doubler('test.Two', A, B)), (e: unknown) => e instanceof StateError && /already an exclusive output of test\.One/.test(e.message));
  });

  it('merges inputs into one output per group and drops empty groups', () =>
    withRuntime(
      async (s) => {
        const put = (id: string, link: string, layer: number, mtu: number) => s.create(newResource({ ...A, id }, { link, layer, mtu }));
        await put('cmdline/eth0', 'eth0', 1, 1500);
        await put('config/eth0', 'eth0', 3, 9000);
        await put('dhcp/eth1', 'eth1', 2, 1400);
        await until(s, [B], async () => JSON.stringify(await values(s, B)) === JSON.stringify({ eth0: 9000, eth1: 1400 }));
        await s.destroy({ ...A, id: 'config/eth0' });
        await s.destroy({ ...A, id: 'dhcp/eth1' });
        await until(s, [B], async () => JSON.stringify(await values(s, B)) === JSON.stringify({ eth0: 1500 }));
      },
      [
        new MergeController<{ link: string; layer: number; mtu: number }, V>({
          name: 'test.LinkMerge',
          input: A,
          output: B,
          emptySpec: () => ({ value: 0 }),
          group: (r) => r.spec.link,
          merge: (inputs, out) => {
            out.spec.value = [...inputs].sort((x, y) => y.spec.layer - x.spec.layer)[0]!.spec.mtu;
          },
        }),
      ],
    ));

  it('exposes its dependency graph', () => {
    const rt = new ControllerRuntime(new State(new InMemoryState()), log);
    rt.register(doubler('test.D01', A, B, true));
    const edges = rt.dependencies();
    assert.deepEqual(
      edges.map((e) => [e.edgeType, e.resourceType]),
      [
        ['INPUT_STRONG', A.type],
        ['INPUT_DESTROY_READY', B.type],
        ['OUTPUT_EXCLUSIVE', B.type],
      ],
    );
    const dot = dependencyGraphDot(edges);
    assert.match(dot, /^digraph \{/);
    assert.match(dot, /"Alphas\.test\.bronze\.dev" -> "test\.D01";/);
    assert.match(dot, /"test\.D01" -> "Betas\.test\.bronze\.dev";/);
  });
});
