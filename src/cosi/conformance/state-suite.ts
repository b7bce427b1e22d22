import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAlreadyExists, isConflict, isInvalidBookmark, isNotFound, isOwnerConflict, isPendingFinalizers, isPhaseConflict } from '../errors.js';
import { newResource, type Pointer, type Resource } from '../resource.js';
import { type CoreState, State, type StateEvent } from '../state.js';

/** What a backend under test provides: a fresh, empty state and a way to dispose of it. */
export interface StateFixture {
  state: CoreState;
  cleanup(): Promise<void>;
  /** the backend keeps this many events per type (for the overrun test); omit to skip it */
  historyCapacity?: number;
}

const NS = 'default';
const T = 'TestResources.test.bronze.dev';
const ptr = (id: string): Pointer => ({ namespace: NS, type: T, id });
const res = (id: string, value: string, labels: Record<string, string> = {}) => newResource(ptr(id), { value }, { labels });

/** Reads `n` events from a watch, failing after `ms`. */
export async function takeEvents(it: AsyncIterator<StateEvent>, n: number, ms = 5000): Promise<StateEvent[]> {
  const out: StateEvent[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for event ${out.length + 1} of ${n}: got ${JSON.stringify(out.map(brief))}`)), Math.max(0, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events`);
    out.push(r.value);
  }
  return out;
}

export const brief = (e: StateEvent) => [e.type, e.resource?.metadata.id ?? '', (e.resource?.spec as { value?: string } | undefined)?.value ?? ''];

const specOf = (r: Readonly<Resource> | undefined) => (r?.spec as { value: string } | undefined)?.value;

/**
 * The resource store contract, as COSI's conformance suite checks it: run it against every backend (in memory,
 * filtered, remote over gRPC).
 */
export function stateConformance(name: string, fixture: () => Promise<StateFixture>): void {
  describe(`state conformance: ${name}`, () => {
    const withState = (fn: (s: State, f: StateFixture) => Promise<void>) => async () => {
      const f = await fixture();
      try {
        await fn(new State(f.state), f);
      } finally {
        await f.cleanup();
      }
    };

    it(
      'creates, reads, lists, updates and destroys',
      withState(async (s) => {
        const created = await s.create(res('a', 'one', { k: 'v' }));
        assert.equal(created.metadata.version, 1);
        assert.equal(created.metadata.phase, 'running');
        assert.equal(created.metadata.owner, '');
        assert.ok(created.metadata.created.getTime() > 0);
        await s.create(res('b', 'two'));
        await assert.rejects(s.create(res('a', 'again')), isAlreadyExists);
        const got = await s.get(ptr('a'));
        assert.deepEqual(got.spec, { value: 'one' });
        assert.deepEqual(got.metadata.labels, { k: 'v' });
        // what the store hands out is a copy
        (got.spec as { value: string }).value = 'changed';
        got.metadata.labels.k = 'x';
        assert.equal(specOf(await s.get(ptr('a'))), 'one');
        assert.equal((await s.get(ptr('a'))).metadata.labels.k, 'v');
        assert.deepEqual((await s.list({ namespace: NS, type: T })).map((r) => r.metadata.id), ['a', 'b']);
        const cur = await s.get(ptr('a'));
        (cur.spec as { value: string }).value = 'uno';
        const updated = await s.update(cur);
        assert.equal(updated.metadata.version, 2);
        assert.ok(updated.metadata.updated.getTime() >= updated.metadata.created.getTime());
        assert.equal(specOf(await s.get(ptr('a'))), 'uno');
        await s.destroy(ptr('a'));
        await assert.rejects(s.get(ptr('a')), isNotFound);
        await assert.rejects(s.destroy(ptr('a')), isNotFound);
        await assert.rejects(s.update(updated), isNotFound);
        assert.deepEqual((await s.list({ namespace: NS, type: T })).map((r) => r.metadata.id), ['b']);
        assert.deepEqual(await s.list({ namespace: 'other', type: T }), []);
      }),
    );

    it(
      'refuses stale and future versions',
      withState(async (s) => {
        const r = await s.create(res('a', 'one'));
        const stale = structuredClone(r);
        await s.update(r);
        await assert.rejects(s.update(stale), isConflict);
        const future = await s.get(ptr('a'));
        future.metadata.version += 5;
        await assert.rejects(s.update(future), isConflict);
        const n = await s.updateWithConflicts(ptr('a'), (x) => ((x.spec as { value: string }).value = 'ok'));
        assert.equal(n.metadata.version, 3);
      }),
    );

    it(
      'enforces owners',
      withState(async (s) => {
        const r = await s.create(res('a', 'one'), { owner: 'ctrl.A' });
        assert.equal(r.metadata.owner, 'ctrl.A');
        await assert.rejects(s.update(r), isOwnerConflict);
        await assert.rejects(s.update(r, { owner: 'ctrl.B' }), isOwnerConflict);
        await s.update(r, { owner: 'ctrl.A' });
        await assert.rejects(s.destroy(ptr('a')), isOwnerConflict);
        await assert.rejects(s.teardown(ptr('a'), { owner: 'ctrl.B' }), isOwnerConflict);
        await s.destroy(ptr('a'), { owner: 'ctrl.A' });
      }),
    );

    it(
      'tears down, keeps resources with finalizers, and destroys them once released',
      withState(async (s) => {
        await s.create(res('a', 'one'));
        await s.addFinalizer(ptr('a'), 'consumer-1', 'consumer-2');
        await s.addFinalizer(ptr('a'), 'consumer-1');
        assert.deepEqual((await s.get(ptr('a'))).metadata.finalizers, ['consumer-1', 'consumer-2']);
        assert.equal(await s.teardown(ptr('a')), false);
        const torn = await s.get(ptr('a'));
        assert.equal(torn.metadata.phase, 'tearingDown');
        await assert.rejects(s.update(torn), isPhaseConflict);
        await s.update(torn, { expectedPhase: 'tearingDown' });
        await assert.rejects(s.destroy(ptr('a')), isPendingFinalizers);
        const done = s.teardownAndDestroy(ptr('a'));
        await s.removeFinalizer(ptr('a'), 'consumer-1');
        await s.removeFinalizer(ptr('a'), 'consumer-2');
        await done;
        await assert.rejects(s.get(ptr('a')), isNotFound);
        await s.create(res('b', 'two'));
        assert.equal(await s.teardown(ptr('b')), true);
      }),
    );

    it(
      'applies concurrent finalizer changes without losing any',
      withState(async (s) => {
        await s.create(res('a', 'one'));
        const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
        await Promise.all(names.map((f) => s.addFinalizer(ptr('a'), f)));
        assert.deepEqual([...(await s.get(ptr('a'))).metadata.finalizers].sort(), [...names].sort());
        await Promise.all(names.map((f) => s.removeFinalizer(ptr('a'), f)));
        assert.deepEqual((await s.get(ptr('a'))).metadata.finalizers, []);
      }),
    );

    it(
      'modifies only when something changes',
      withState(async (s) => {
        const a = await s.modify(ptr('a'), () => ({ value: '' }), (r) => (r.spec.value = 'one'), { owner: 'c' });
        assert.equal(a.metadata.version, 1);
        assert.equal(a.metadata.owner, 'c');
        const same = await s.modify(ptr('a'), () => ({ value: '' }), (r) => (r.spec.value = 'one'), { owner: 'c' });
        assert.equal(same.metadata.version, 1);
        const b = await s.modify(ptr('a'), () => ({ value: '' }), (r) => (r.spec.value = 'two'), { owner: 'c' });
        assert.equal(b.metadata.version, 2);
        await assert.rejects(s.modify(ptr('a'), () => ({ value: '' }), (r) => (r.spec.value = 'three')), isOwnerConflict);
      }),
    );

    it(
      'filters lists by labels and IDs',
      withState(async (s) => {
        await s.create(res('a1', 'x', { tier: 'web', n: '5' }));
        await s.create(res('a2', 'x', { tier: 'db', n: '10' }));
        await s.create(res('b1', 'x', { n: '7' }));
        const ids = async (q: Parameters<State['list']>[1]) => (await s.list({ namespace: NS, type: T }, q)).map((r) => r.metadata.id);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'tier', op: 'exists' }] }] }), ['a1', 'a2']);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'tier', op: 'exists', invert: true }] }] }), ['b1']);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'tier', op: 'equal', value: ['db'] }] }] }), ['a2']);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'tier', op: 'in', value: ['db', 'web'] }] }] }), ['a1', 'a2']);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'n', op: 'ltNumeric', value: ['8'] }] }] }), ['a1', 'b1']);
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'n', op: 'lt', value: ['6'] }] }] }), ['a2', 'a1'].sort());
        assert.deepEqual(await ids({ labelQuery: [{ terms: [{ key: 'tier', op: 'exists' }, { key: 'n', op: 'lteNumeric', value: ['5'] }] }] }), ['a1']);
        assert.deepEqual(await ids({ idQuery: { regexp: '^a' } }), ['a1', 'a2']);
      }),
    );

    it(
      'watches one resource: current state first, then its changes',
      withState(async (s) => {
        const ac = new AbortController();
        const missing = s.watch(ptr('a'), {}, ac.signal)[Symbol.asyncIterator]();
        const [first] = await takeEvents(missing, 1);
        assert.equal(first!.type, 'destroyed');
        assert.equal(first!.resource?.metadata.id, 'a');
        await s.create(res('a', 'one'));
        await s.create(res('other', 'x'));
        const r = await s.get(ptr('a'));
        (r.spec as { value: string }).value = 'two';
        await s.update(r);
        await s.destroy(ptr('a'));
        const evs = await takeEvents(missing, 3);
        assert.deepEqual(evs.map(brief), [
          ['created', 'a', 'one'],
          ['updated', 'a', 'two'],
          ['destroyed', 'a', 'two'],
        ]);
        assert.equal(specOf(evs[1]!.old), 'one');
        // a watch of an existing resource starts with it
        await s.create(res('a', 'three'));
        const w2 = s.watch(ptr('a'), {}, ac.signal)[Symbol.asyncIterator]();
        assert.deepEqual((await takeEvents(w2, 1)).map(brief), [['created', 'a', 'three']]);
        ac.abort();
        assert.equal((await missing.next()).done, true);
      }),
    );

    it(
      'replays the tail of one resource and resumes from a bookmark',
      withState(async (s) => {
        await s.create(res('a', 'v1'));
        for (const v of ['v2', 'v3']) await s.updateWithConflicts(ptr('a'), (r) => ((r.spec as { value: string }).value = v));
        await s.create(res('b', 'noise'));
        const ac = new AbortController();
        try {
          const tail = s.watch(ptr('a'), { tailEvents: 2 }, ac.signal)[Symbol.asyncIterator]();
          const evs = await takeEvents(tail, 2);
          assert.deepEqual(evs.map(brief), [
            ['updated', 'a', 'v2'],
            ['updated', 'a', 'v3'],
          ]);
          const resumed = s.watch(ptr('a'), { startFromBookmark: evs[0]!.bookmark }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(resumed, 1)).map(brief), [['updated', 'a', 'v3']]);
        } finally {
          ac.abort();
        }
      }),
    );

    it(
      'watches a kind with bootstrap contents, label queries and bookmarks',
      withState(async (s) => {
        await s.create(res('b', 'b1', { app: 'x' }));
        await s.create(res('a', 'a1', { app: 'x' }));
        await s.create(res('c', 'c1'));
        const ac = new AbortController();
        try {
          const all = s.watchKind({ namespace: NS, type: T }, { bootstrapContents: true }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(all, 4)).map((e) => [e.type, e.resource?.metadata.id ?? '']), [
            ['created', 'a'],
            ['created', 'b'],
            ['created', 'c'],
            ['bootstrapped', ''],
          ]);
          const labelled = s.watchKind({ namespace: NS, type: T }, { bootstrapContents: true, labelQuery: [{ terms: [{ key: 'app', op: 'equal', value: ['x'] }] }] }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(labelled, 3)).map((e) => [e.type, e.resource?.metadata.id ?? '']), [
            ['created', 'a'],
            ['created', 'b'],
            ['bootstrapped', ''],
          ]);
          // c enters the query, a leaves it, d is created outside it
          await s.updateWithConflicts(ptr('c'), (r) => (r.metadata.labels.app = 'x'));
          await s.updateWithConflicts(ptr('a'), (r) => delete r.metadata.labels.app);
          await s.create(res('d', 'd1'));
          await s.destroy(ptr('b'));
          assert.deepEqual((await takeEvents(labelled, 3)).map((e) => [e.type, e.resource?.metadata.id]), [
            ['created', 'c'],
            ['destroyed', 'a'],
            ['destroyed', 'b'],
          ]);
          const evs = await takeEvents(all, 4);
          assert.deepEqual(evs.map((e) => [e.type, e.resource?.metadata.id]), [
            ['updated', 'c'],
            ['updated', 'a'],
            ['created', 'd'],
            ['destroyed', 'b'],
          ]);
          const resumed = s.watchKind({ namespace: NS, type: T }, { startFromBookmark: evs[1]!.bookmark }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(resumed, 2)).map((e) => [e.type, e.resource?.metadata.id]), [
            ['created', 'd'],
            ['destroyed', 'b'],
          ]);
          const tail = s.watchKind({ namespace: NS, type: T }, { tailEvents: 2 }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(tail, 2)).map((e) => [e.type, e.resource?.metadata.id]), [
            ['created', 'd'],
            ['destroyed', 'b'],
          ]);
          const byId = s.watchKind({ namespace: NS, type: T }, { bootstrapContents: true, idQuery: { regexp: '^[cd]$' } }, ac.signal)[Symbol.asyncIterator]();
          assert.deepEqual((await takeEvents(byId, 3)).map((e) => [e.type, e.resource?.metadata.id ?? '']), [
            ['created', 'c'],
            ['created', 'd'],
            ['bootstrapped', ''],
          ]);
        } finally {
          ac.abort();
        }
      }),
    );

    it(
      'delivers aggregated kind watches as batches of the same events',
      withState(async (s) => {
        await s.create(res('a', 'a1'));
        const ac = new AbortController();
        try {
          const w = s.watchKindAggregated({ namespace: NS, type: T }, { bootstrapContents: true }, ac.signal)[Symbol.asyncIterator]();
          const seen: string[] = [];
          const collect = async (n: number) => {
            const deadline = Date.now() + 5000;
            while (seen.length < n) {
              if (Date.now() > deadline) throw new Error(`only ${seen.join(',')}`);
              const r = await w.next();
              assert.ok(!r.done && r.value.length > 0, 'batches are never empty');
              for (const e of r.value) seen.push(`${e.type}:${e.resource?.metadata.id ?? ''}`);
            }
          };
          await collect(2);
          for (let i = 0; i < 50; i++) await s.create(res(`r${i}`, 'x'));
          await collect(52);
          assert.deepEqual(seen.slice(0, 2), ['created:a', 'bootstrapped:']);
          assert.deepEqual(seen.slice(2), Array.from({ length: 50 }, (_, i) => `created:r${i}`));
        } finally {
          ac.abort();
        }
      }),
    );

    it(
      'refuses a bookmark it did not issue',
      withState(async (s) => {
        await s.create(res('a', 'x'));
        await assert.rejects(async () => {
          const w = s.watchKind({ namespace: NS, type: T }, { startFromBookmark: Buffer.alloc(16, 7) })[Symbol.asyncIterator]();
          await w.next();
        }, isInvalidBookmark);
      }),
    );

    it(
      'gives a watcher that falls behind an overrun error instead of blocking writers',
      withState(async (s, f) => {
        if (!f.historyCapacity) return;
        const ac = new AbortController();
        try {
          const w = s.watchKind({ namespace: NS, type: T }, {}, ac.signal)[Symbol.asyncIterator]();
          for (let i = 0; i < f.historyCapacity + 10; i++) await s.create(res(`r${i}`, 'x'));
          let errored: StateEvent | undefined;
          for (let i = 0; i < f.historyCapacity + 11 && !errored; i++) {
            const [e] = await takeEvents(w, 1);
            if (e!.type === 'errored') errored = e;
          }
          assert.ok(errored, 'no errored event');
          assert.match(errored!.error!, /overrun/);
        } finally {
          ac.abort();
        }
      }),
    );

    it(
      'waits for a condition with watchFor',
      withState(async (s) => {
        const waiting = s.watchFor(ptr('a'), (r) => specOf(r) === 'ready');
        await s.create(res('a', 'starting'));
        await s.updateWithConflicts(ptr('a'), (r) => ((r.spec as { value: string }).value = 'ready'));
        assert.equal(specOf(await waiting), 'ready');
      }),
    );
  });
}
