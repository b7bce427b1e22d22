import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { type IntSpec, intKind, IntType, sentenceKind, type StrSpec, strKind, StrType } from '../../conformance/resources.js';
import { CosiError } from '../../errors.js';
import type { LabelQuery } from '../../labels.js';
import { type Kind, newResource } from '../../resource.js';
import { type CoreState, State } from '../../state.js';
import type { Controller, ControllerAdapter, Input, Output } from '../controller.js';
import { MergeController } from '../generic/merge.js';
import { TransformController } from '../generic/transform.js';
import { ControllerRuntime, type RuntimeOptions } from '../runtime.js';

/** What a backend under test provides for the controller suite. */
export interface RuntimeFixture {
  /** the state the runtime runs over */
  state: CoreState;
  /** the state the tests write and check through (default: the same); remote fixtures give the served state here */
  direct?: CoreState;
  cleanup(): Promise<void>;
  /** restarts whatever serves the state (remote backends): running controllers must carry on */
  restart?(): Promise<void>;
}

const log = pino({ level: 'silent' });
/** a type without a codec: remote backends carry its specs as YAML */
const layers: Kind = { namespace: 'layers', type: 'Layers.test.bronze.dev' };

/**
 * Resolves once `check` holds, checking again after every change of `kinds` (no polling), failing after `ms` with
 * what the check last saw.
 */
export async function until(s: State, kinds: Kind[], check: () => Promise<boolean | string>, ms = 10_000): Promise<void> {
  const ac = new AbortController();
  let wake: () => void = () => {};
  let changed = false;
  const onChange = () => {
    changed = true;
    wake();
  };
  const watches = await Promise.all(kinds.map((k) => s.watchKindAggregated(k, {}, ac.signal)));
  const pumps = watches.map(async (w) => {
    for await (const _ of w) onChange();
  });
  const timer = setTimeout(() => ac.abort(), ms);
  const aborted = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
  let last: boolean | string = false;
  try {
    for (;;) {
      changed = false;
      last = await check();
      if (last === true) return;
      if (ac.signal.aborted) throw new Error(`condition not met within ${ms} ms: ${String(last)}`);
      if (!changed) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
    await Promise.allSettled(pumps);
  }
}

/** `{ id: value }` of a kind, for comparisons. */
async function values(s: State, k: Kind): Promise<Record<string, unknown>> {
  return Object.fromEntries((await s.list(k)).map((r) => [r.metadata.id, (r.spec as { value: unknown }).value]));
}

/** A check that a kind holds exactly these values (and says what it holds when not). */
const holds = (s: State, k: Kind, want: Record<string, unknown>) => async () => {
  const got = await values(s, k);
  return JSON.stringify(got) === JSON.stringify(want) || `${k.namespace}/${k.type} holds ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
};

/** Ints to strings, 1:1, holding finalizers on the ints (COSI's IntToStrController). */
const intToStr = (name: string, from: string, to: string) =>
  new TransformController<IntSpec, StrSpec>({
    name,
    input: intKind(from),
    output: strKind(to),
    inputFinalizers: true,
    emptySpec: () => ({ value: '' }),
    mapID: (r) => r.metadata.id,
    transform: (i, o) => void (o.spec.value = String(i.spec.value)),
  });

/** Strings to sentences (COSI's StrToSentenceController). */
const strToSentence = (name: string, from: string, to: string) =>
  new TransformController<StrSpec, StrSpec>({
    name,
    input: strKind(from),
    output: sentenceKind(to),
    inputFinalizers: true,
    emptySpec: () => ({ value: '' }),
    mapID: (r) => r.metadata.id,
    transform: (i, o) => void (o.spec.value = `${i.spec.value} sentence`),
  });

/** Sums ints of one namespace (optionally label-filtered) into one int of another (COSI's SumController). */
function sum(name: string, from: string, to: string, id: string, labelQuery?: LabelQuery): Controller {
  return {
    name,
    inputs: (): Input[] => [{ ...intKind(from), kind: 'weak' }],
    outputs: (): Output[] => [{ type: IntType, kind: 'shared' }],
    async run(r: ControllerAdapter) {
      for await (const _ of r.events()) {
        const items = await r.list<IntSpec>(intKind(from), labelQuery ? { labelQuery: [labelQuery] } : {});
        const total = items.reduce((acc, x) => acc + x.spec.value, 0);
        await r.modify<IntSpec>({ ...intKind(to), id }, () => ({ value: 0 }), (o) => void (o.spec.value = total));
        r.resetRestartBackoff();
      }
    },
  };
}

/** Creates one int per run, then fails (or throws a non-error) so the runtime restarts it (COSI's FailingController). */
function failing(name: string, to: string, how: 'error' | 'throw' | 'sync'): Controller {
  let count = 0;
  let runs = 0;
  return {
    name,
    inputs: (): Input[] => [],
    outputs: (): Output[] => [{ type: IntType, kind: 'exclusive' }],
    run(r: ControllerAdapter) {
      // every other run: a bug before any await, which the runtime must survive as well
      if (how === 'sync' && runs++ % 2 === 1) throw new TypeError('undefined is not a function');
      return (async () => {
        for await (const _ of r.events()) {
          await r.create(newResource<IntSpec>({ ...intKind(to), id: String(count) }, { value: count }));
          count++;
          if (how === 'throw') throw 'a string, not an Error';
          throw new Error('failing here');
        }
      })();
    },
  };
}

/**
 * The controller runtime contract, after COSI's controller conformance suite: run it over every state backend
 * (in memory, remote over gRPC with the server restarted mid-test).
 */
export function controllerConformance(name: string, fixture: () => Promise<RuntimeFixture>): void {
  describe(`controller runtime conformance: ${name}`, () => {
    const withRuntime =
      (controllers: Controller[], fn: (s: State, rt: ControllerRuntime, f: RuntimeFixture) => Promise<void>, opts: RuntimeOptions = {}, start = true) =>
      async () => {
        const f = await fixture();
        const s = new State(f.direct ?? f.state);
        const rt = new ControllerRuntime(new State(f.state), log, { backoffBaseMs: 5, backoffMaxMs: 100, ...opts });
        try {
          for (const c of controllers) rt.register(c);
          if (start) rt.start();
          await fn(s, rt, f);
        } finally {
          await rt.stop();
          await f.cleanup();
        }
      };

    it(
      'starts and stops with no controllers',
      withRuntime([], async (_s, rt) => {
        assert.deepEqual(rt.dependencies(), []);
      }),
    );

    it(
      'transforms ints to strings, and tears outputs down before letting inputs go',
      withRuntime(
        [intToStr('test.IntToStr', 'default', 'default')],
        async (s, rt) => {
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'one' }, { value: 1 }));
          rt.start();
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'two' }, { value: 2 }));
          await until(s, [strKind('default')], holds(s, strKind('default'), { one: '1', two: '2' }));
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'three' }, { value: 3 }));
          await until(s, [strKind('default')], holds(s, strKind('default'), { one: '1', three: '3', two: '2' }));
          const three = { ...intKind('default'), id: 'three' };
          assert.deepEqual((await s.get(three)).metadata.finalizers, ['test.IntToStr']);
          assert.equal((await s.get({ ...strKind('default'), id: 'three' })).metadata.owner, 'test.IntToStr');
          await s.updateWithConflicts<IntSpec>(three, (r) => void (r.spec.value = 33));
          await until(s, [strKind('default')], holds(s, strKind('default'), { one: '1', three: '33', two: '2' }));
          assert.equal(await s.teardown(three), false, 'the controller holds the input');
          await s.watchFor(three, (r) => r?.metadata.finalizers.length === 0);
          assert.deepEqual(await values(s, strKind('default')), { one: '1', two: '2' });
          await s.destroy(three);
        },
        {},
        false,
      ),
    );

    it(
      'runs a chain (ints to strings to sentences) and cascades teardown along it',
      withRuntime(
        [intToStr('test.IntToStr', 'ints', 'strings'), strToSentence('test.StrToSentence', 'strings', 'sentences')],
        async (s, rt) => {
          const one = { ...intKind('ints'), id: 'one' };
          await s.create(newResource<IntSpec>(one, { value: 1 }));
          rt.start();
          await s.create(newResource<IntSpec>({ ...intKind('ints'), id: 'two' }, { value: 2 }));
          await until(s, [sentenceKind('sentences')], holds(s, sentenceKind('sentences'), { one: '1 sentence', two: '2 sentence' }));
          await s.updateWithConflicts<IntSpec>(one, (r) => void (r.spec.value = 11));
          await until(s, [sentenceKind('sentences')], holds(s, sentenceKind('sentences'), { one: '11 sentence', two: '2 sentence' }));
          assert.equal(await s.teardown(one), false);
          await s.watchFor(one, (r) => r?.metadata.finalizers.length === 0);
          // by then the string and the sentence are gone, in that order of dependency
          assert.deepEqual(await values(s, strKind('strings')), { two: '2' });
          assert.deepEqual(await values(s, sentenceKind('sentences')), { two: '2 sentence' });
          await s.destroy(one);
        },
        {},
        false,
      ),
    );

    it(
      'sums, with and without label queries',
      withRuntime(
        [
          sum('test.Sum', 'source', 'target', 'sum'),
          sum('test.SumFiltered', 'source', 'target', 'filtered', {
            terms: [
              { key: 'summable', op: 'exists' },
              { key: 'app', op: 'equal', value: ['app1'] },
            ],
          }),
        ],
        async (s) => {
          const target = intKind('target');
          await until(s, [target], holds(s, target, { filtered: 0, sum: 0 }));
          await s.create(newResource<IntSpec>({ ...intKind('source'), id: 'one' }, { value: 1 }, { labels: { summable: 'true' } }));
          await s.create(newResource<IntSpec>({ ...intKind('source'), id: 'two' }, { value: 2 }, { labels: { summable: 'true', app: 'app1' } }));
          await until(s, [target], holds(s, target, { filtered: 2, sum: 3 }));
          await s.create(newResource<IntSpec>({ ...intKind('source'), id: 'three' }, { value: 3 }, { labels: { summable: 'yep', app: 'app1' } }));
          await until(s, [target], holds(s, target, { filtered: 5, sum: 6 }));
          await s.destroy({ ...intKind('source'), id: 'two' });
          await until(s, [target], holds(s, target, { filtered: 3, sum: 4 }));
        },
      ),
    );

    it(
      'cascades sums through controllers registered while running',
      withRuntime([], async (s, rt) => {
        rt.register(sum('test.Sum1', 'source1', 'source', 'sum1'));
        rt.register(sum('test.Sum2', 'source2', 'source', 'sum2'));
        rt.register(sum('test.Sum', 'source', 'target', 'sum'));
        await until(s, [intKind('target')], holds(s, intKind('target'), { sum: 0 }));
        for (const [ns, id, v] of [
          ['source1', 'one', 1],
          ['source1', 'two', 2],
          ['source2', 'three', 3],
          ['source2', 'four', 4],
        ] as const) {
          await s.create(newResource<IntSpec>({ ...intKind(ns), id }, { value: v }));
        }
        await until(s, [intKind('target')], holds(s, intKind('target'), { sum: 10 }));
      }),
    );

    for (const how of ['error', 'throw', 'sync'] as const) {
      it(
        `restarts a controller that fails (${how === 'error' ? 'with an error' : how === 'throw' ? 'throwing a non-error' : 'synchronously'}) with backoff`,
        withRuntime([failing('test.Failing', 'target', how)], async (s, rt) => {
          await until(s, [intKind('target')], async () => {
            const got = await values(s, intKind('target'));
            return (got['0'] === 0 && got['1'] === 1) || `holds ${JSON.stringify(got)}`;
          });
          const st = rt.stats('test.Failing')!;
          assert.ok(st.restarts >= 1, `restarted ${st.restarts} times`);
          assert.ok(st.lastError, 'the failure is recorded');
        }),
      );
    }

    it(
      'doubles with modify, and destroys outputs of destroyed inputs',
      withRuntime(
        [
          new TransformController<IntSpec, IntSpec>({
            name: 'test.IntDoubler',
            input: intKind('default'),
            output: intKind('target'),
            emptySpec: () => ({ value: 0 }),
            mapID: (r) => r.metadata.id,
            transform: (i, o) => void (o.spec.value = i.spec.value * 2),
          }),
        ],
        async (s, rt) => {
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'one' }, { value: 1 }));
          rt.start();
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'two' }, { value: 2 }));
          await until(s, [intKind('target')], holds(s, intKind('target'), { one: 2, two: 4 }));
          await s.create(newResource<IntSpec>({ ...intKind('default'), id: 'three' }, { value: 3 }));
          await until(s, [intKind('target')], holds(s, intKind('target'), { one: 2, three: 6, two: 4 }));
          await s.destroy({ ...intKind('default'), id: 'three' });
          await until(s, [intKind('target')], holds(s, intKind('target'), { one: 2, two: 4 }));
          // an output version is bumped only when its value changes
          const before = (await s.get({ ...intKind('target'), id: 'one' })).metadata.version;
          await s.updateWithConflicts({ ...intKind('default'), id: 'one' }, (r) => void (r.metadata.labels.touched = 'yes'));
          await s.updateWithConflicts<IntSpec>({ ...intKind('default'), id: 'two' }, (r) => void (r.spec.value = 5));
          await until(s, [intKind('target')], holds(s, intKind('target'), { one: 2, two: 10 }));
          assert.equal((await s.get({ ...intKind('target'), id: 'one' })).metadata.version, before);
        },
        {},
        false,
      ),
    );

    it(
      'converges a chain of five controllers after one input change',
      withRuntime(
        Array.from({ length: 5 }, (_, i) =>
          new TransformController<IntSpec, IntSpec>({
            name: `test.Link${i}`,
            input: intKind(`link${i}`),
            output: intKind(`link${i + 1}`),
            // one type in five namespaces: five writers, each of its own resources
            outputKind: 'shared',
            emptySpec: () => ({ value: 0 }),
            mapID: (r) => r.metadata.id,
            transform: (a, b) => void (b.spec.value = a.spec.value + 1),
          }),
        ),
        async (s) => {
          await s.create(newResource<IntSpec>({ ...intKind('link0'), id: 'x' }, { value: 0 }));
          await until(s, [intKind('link5')], holds(s, intKind('link5'), { x: 5 }));
          await s.updateWithConflicts<IntSpec>({ ...intKind('link0'), id: 'x' }, (r) => void (r.spec.value = 10));
          await until(s, [intKind('link5')], holds(s, intKind('link5'), { x: 15 }));
        },
      ),
    );

    it(
      'coalesces bursts of input changes into few passes',
      withRuntime([sum('test.Sum', 'burst', 'target', 'sum')], async (s, rt) => {
        await until(s, [intKind('target')], holds(s, intKind('target'), { sum: 0 }));
        const before = rt.stats('test.Sum')!.wakeups;
        await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(newResource<IntSpec>({ ...intKind('burst'), id: `r${i}` }, { value: 1 }))));
        await until(s, [intKind('target')], holds(s, intKind('target'), { sum: 200 }));
        const passes = rt.stats('test.Sum')!.wakeups - before;
        assert.ok(passes >= 1 && passes < 50, `${passes} passes for 200 changes`);
      }),
    );

    it(
      'merges inputs into one output per group and drops groups left empty',
      withRuntime(
        [
          new MergeController<{ link: string; layer: number; mtu: number }, IntSpec>({
            name: 'test.LinkMerge',
            input: layers,
            output: intKind('merged'),
            emptySpec: () => ({ value: 0 }),
            group: (r) => r.spec.link,
            merge: (inputs, out) => void (out.spec.value = [...inputs].sort((x, y) => y.spec.layer - x.spec.layer)[0]!.spec.mtu),
          }),
        ],
        async (s) => {
          const put = (id: string, link: string, layer: number, mtu: number) => s.create(newResource({ ...layers, id }, { link, layer, mtu }));
          await put('cmdline/eth0', 'eth0', 1, 1500);
          await put('config/eth0', 'eth0', 3, 9000);
          await put('dhcp/eth1', 'eth1', 2, 1400);
          await until(s, [intKind('merged')], holds(s, intKind('merged'), { eth0: 9000, eth1: 1400 }));
          await s.destroy({ ...layers, id: 'config/eth0' });
          await s.destroy({ ...layers, id: 'dhcp/eth1' });
          await until(s, [intKind('merged')], holds(s, intKind('merged'), { eth0: 1500 }));
        },
      ),
    );

    {
      const failures: { name: string; err: unknown }[] = [];
      let allFailed: () => void = () => {};
      const rogue = (name: string, act: (r: ControllerAdapter) => Promise<unknown>): Controller => ({
        name,
        inputs: (): Input[] => [{ ...intKind('in'), kind: 'weak' }],
        outputs: (): Output[] => [{ type: StrType, kind: 'exclusive' }],
        async run(r: ControllerAdapter) {
          for await (const _ of r.events()) {
            await act(r);
            return;
          }
        },
      });
      it(
        'refuses reads of undeclared inputs, writes of undeclared outputs and finalizers on weak inputs',
        withRuntime(
          [],
          async (s, rt) => {
            const seen = new Promise<void>((resolve) => (allFailed = resolve));
            await s.create(newResource<IntSpec>({ ...intKind('in'), id: 'x' }, { value: 1 }));
            rt.register(rogue('test.WritesInts', (r) => r.create(newResource<IntSpec>({ ...intKind('in'), id: 'nope' }, { value: 1 }))));
            rt.register({ ...rogue('test.ReadsSentences', (r) => r.list(sentenceKind('in'))), outputs: () => [] });
            rt.register({ ...rogue('test.HoldsWeakInput', (r) => r.addFinalizer({ ...intKind('in'), id: 'x' }, 'mine')), outputs: () => [] });
            await seen;
            const codeOf = (n: string) => (failures.find((f) => f.name === n)!.err as CosiError).code;
            assert.equal(codeOf('test.WritesInts'), 'BRONZE_COSI_NOT_OUTPUT');
            assert.equal(codeOf('test.ReadsSentences'), 'BRONZE_COSI_NOT_INPUT');
            assert.equal(codeOf('test.HoldsWeakInput'), 'BRONZE_COSI_NOT_INPUT');
            assert.match(rt.stats('test.WritesInts')!.lastError!, /Ints\.test\.bronze\.dev is not its output/);
            assert.deepEqual(Object.keys(await values(s, intKind('in'))), ['x']);
            assert.deepEqual((await s.get({ ...intKind('in'), id: 'x' })).metadata.finalizers, []);
            // an exclusive output has one writer, a name one controller
            assert.throws(() => rt.register(rogue('test.AlsoWritesStrings', async () => {})), (e: unknown) => e instanceof CosiError && /already an exclusive output of test\.WritesInts/.test(e.message));
            assert.throws(() => rt.register({ ...rogue('test.SharesStrings', async () => {}), outputs: () => [{ type: StrType, kind: 'shared' }] }), /already an exclusive output/);
            assert.throws(() => rt.register(rogue('test.WritesInts', async () => {})), /already registered/);
          },
          {
            onError: (name, err) => {
              failures.push({ name, err });
              if (new Set(failures.map((f) => f.name)).size === 3) allFailed();
            },
          },
        ),
      );
    }

    it(
      'grows the restart backoff while a controller keeps failing, and starts over after a good pass',
      withRuntime([], async (s, rt) => {
        const times: number[] = [];
        let fail = 4;
        const flaky: Controller = {
          name: 'test.Flaky',
          inputs: (): Input[] => [{ ...intKind('flaky'), kind: 'weak' }],
          outputs: (): Output[] => [{ type: StrType, kind: 'exclusive' }],
          async run(r: ControllerAdapter) {
            for await (const _ of r.events()) {
              if (fail > 0) {
                fail--;
                times.push(performance.now());
                throw new Error(`transient failure, ${fail} to go`);
              }
              const n = (await r.list<IntSpec>(intKind('flaky'))).length;
              await r.modify<StrSpec>({ ...strKind('flaky'), id: 'count' }, () => ({ value: '' }), (o) => void (o.spec.value = String(n)));
              r.resetRestartBackoff();
            }
          },
        };
        rt.register(flaky);
        await until(s, [strKind('flaky')], holds(s, strKind('flaky'), { count: '0' }));
        assert.equal(rt.stats('test.Flaky')!.restarts, 4);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        // 30, 90, 270 ms (±10 %). A timer never fires early, so each wait is at least its lower bound, which is above
        // the previous wait's upper bound; only the first wait is bounded above (a busy machine delays, never hastens)
        assert.ok(gaps[0]! >= 27 && gaps[0]! < 81 && gaps[1]! >= 81 && gaps[2]! >= 243, `gaps ${gaps.map((g) => g.toFixed(1)).join(', ')}`);
        // after a good pass the next failure waits the shortest time again (30 ms, not 810)
        fail = 1;
        const t0 = performance.now();
        await s.create(newResource<IntSpec>({ ...intKind('flaky'), id: 'a' }, { value: 1 }));
        await until(s, [strKind('flaky')], holds(s, strKind('flaky'), { count: '1' }));
        assert.equal(rt.stats('test.Flaky')!.restarts, 5);
        assert.ok(performance.now() - t0 < 400, `restarted after ${performance.now() - t0} ms: the backoff was not reset`);
      }, { backoffBaseMs: 30, backoffMultiplier: 3, backoffMaxMs: 10_000, backoffJitter: 0.1 }),
    );

    it(
      'keeps controllers converging when the state server restarts',
      withRuntime([intToStr('test.IntToStr', 'ints', 'strings'), strToSentence('test.StrToSentence', 'strings', 'sentences')], async (s, _rt, f) => {
        if (!f.restart) return;
        await s.create(newResource<IntSpec>({ ...intKind('ints'), id: 'one' }, { value: 1 }));
        await until(s, [sentenceKind('sentences')], holds(s, sentenceKind('sentences'), { one: '1 sentence' }));
        await f.restart();
        await s.create(newResource<IntSpec>({ ...intKind('ints'), id: 'two' }, { value: 2 }));
        await until(s, [sentenceKind('sentences')], holds(s, sentenceKind('sentences'), { one: '1 sentence', two: '2 sentence' }));
        await f.restart();
        await s.updateWithConflicts<IntSpec>({ ...intKind('ints'), id: 'one' }, (r) => void (r.spec.value = 7));
        await until(s, [sentenceKind('sentences')], holds(s, sentenceKind('sentences'), { one: '7 sentence', two: '2 sentence' }));
      }),
    );

    it(
      'reports its dependency graph',
      withRuntime([intToStr('test.IntToStr', 'ints', 'strings'), sum('test.Sum', 'source', 'target', 'sum')], async (_s, rt) => {
        assert.deepEqual(
          rt.dependencies().map((e) => `${e.controllerName} ${e.edgeType} ${e.resourceNamespace}/${e.resourceType}`),
          [
            `test.IntToStr OUTPUT_EXCLUSIVE /${StrType}`,
            `test.Sum OUTPUT_SHARED /${IntType}`,
            `test.IntToStr INPUT_STRONG ints/${IntType}`,
            `test.IntToStr INPUT_DESTROY_READY strings/${StrType}`,
            `test.Sum INPUT_WEAK source/${IntType}`,
          ],
        );
      }),
    );
  });
}
