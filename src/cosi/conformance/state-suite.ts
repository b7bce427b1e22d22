import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAlreadyExists, isConflict, isInvalidBookmark, isNotFound, isOwnerConflict, isPendingFinalizers, isPhaseConflict, isUnsupported, isVersionConflict } from '../errors.js';
import type { LabelQuery } from '../labels.js';
import { newResource, type Pointer, type ReadonlyResource, type Resource } from '../resource.js';
import { type CoreState, State, type StateEvent, type Watch } from '../state.js';
import { type StrSpec, StrType } from './resources.js';

/** What a backend under test provides: a fresh, empty state and a way to dispose of it. */
export interface StateFixture {
  state: CoreState;
  cleanup(): Promise<void>;
  /** the backend keeps this many events per type (for the overrun test); omit to skip that test */
  historyCapacity?: number;
}

const NS = 'default';
const KIND = { namespace: NS, type: StrType };
const ptr = (id: string): Pointer => ({ namespace: NS, type: StrType, id });
const str = (id: string, value: string, labels: Record<string, string> = {}) => newResource<StrSpec>(ptr(id), { value }, { labels });
const valueOf = (r: ReadonlyResource | undefined) => (r?.spec as StrSpec | undefined)?.value;
const setValue = (v: string) => (r: Resource) => {
  (r.spec as StrSpec).value = v;
};

/** Reads `n` items from a watch, failing after `ms` milliseconds. */
export async function take<T>(w: AsyncIterator<T>, n: number, ms = 5000): Promise<T[]> {
  const out: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${out.length} of ${n} items: ${JSON.stringify(out, (_k, v: unknown) => (v instanceof Uint8Array ? '<bytes>' : v))}`)), ms);
  });
  try {
    while (out.length < n) {
      const r = await Promise.race([w.next(), deadline]);
      if (r.done) throw new Error(`watch ended after ${out.length} of ${n} items`);
      out.push(r.value);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads events from a watch (batched or not) until `n` events arrived. */
export async function takeEvents(w: AsyncIterator<StateEvent> | AsyncIterator<StateEvent[]>, n: number, ms = 5000): Promise<StateEvent[]> {
  const out: StateEvent[] = [];
  const end = Date.now() + ms;
  while (out.length < n) {
    const [item] = await take(w as AsyncIterator<StateEvent | StateEvent[]>, 1, Math.max(1, end - Date.now()));
    if (Array.isArray(item)) {
      assert.ok(item.length > 0, 'a batch is never empty');
      out.push(...item);
    } else out.push(item!);
  }
  assert.equal(out.length, n, `expected ${n} events, got ${out.map(brief).join(' ')}`);
  return out;
}

/** `type:id=value` of an event, for compact assertions. */
export const brief = (e: StateEvent) => `${e.type}:${e.resource?.metadata.id ?? ''}${valueOf(e.resource) !== undefined ? `=${valueOf(e.resource)}` : ''}`;

type WatchMode = 'events' | 'batches';

async function kindWatch(s: State, mode: WatchMode, opts: Parameters<State['watchKind']>[1], signal: AbortSignal): Promise<Watch<StateEvent> | Watch<StateEvent[]>> {
  return mode === 'events' ? s.watchKind(KIND, opts, signal) : s.watchKindAggregated(KIND, opts, signal);
}

/**
 * The resource store contract, after COSI's state conformance suite: run it against every backend (in memory,
 * filtered, remote over gRPC). Kind watches are checked both event by event and aggregated.
 */
export function stateConformance(name: string, fixture: () => Promise<StateFixture>): void {
  describe(`state conformance: ${name}`, () => {
    const withState = (fn: (s: State, f: StateFixture, signal: AbortSignal) => Promise<void>) => async () => {
      const f = await fixture();
      const ac = new AbortController();
      try {
        await fn(new State(f.state), f, ac.signal);
      } finally {
        ac.abort();
        await f.cleanup();
      }
    };

    it(
      'creates, reads, lists, updates and destroys',
      withState(async (s) => {
        const created = await s.create(str('a', 'one', { k: 'v' }));
        assert.equal(created.metadata.version, 1);
        assert.equal(created.metadata.phase, 'running');
        assert.equal(created.metadata.owner, '');
        assert.ok(created.metadata.created.getTime() > 0);
        assert.equal(created.metadata.updated.getTime(), created.metadata.created.getTime());
        await s.create(str('b', 'two'));
        await assert.rejects(s.create(str('a', 'again')), (e) => isAlreadyExists(e) && isConflict(e));
        const got = await s.get(ptr('a'));
        assert.deepEqual(got.spec, { value: 'one' });
        assert.deepEqual(got.metadata.labels, { k: 'v' });
        // what the store hands out is a copy
        setValue('changed')(got);
        got.metadata.labels.k = 'x';
        got.metadata.finalizers.push('f');
        const again = await s.get(ptr('a'));
        assert.equal(valueOf(again), 'one');
        assert.deepEqual(again.metadata.labels, { k: 'v' });
        assert.deepEqual(again.metadata.finalizers, []);
        const listed = await s.list(KIND);
        assert.deepEqual(listed.map((r) => r.metadata.id), ['a', 'b']);
        setValue('mutated')(listed[0]!);
        assert.equal(valueOf(await s.get(ptr('a'))), 'one');
        setValue('uno')(again);
        const updated = await s.update(again);
        assert.equal(updated.metadata.version, 2);
        assert.equal(updated.metadata.created.getTime(), created.metadata.created.getTime());
        assert.ok(updated.metadata.updated.getTime() >= created.metadata.updated.getTime());
        assert.equal(valueOf(await s.get(ptr('a'))), 'uno');
        await s.destroy(ptr('a'));
        await assert.rejects(s.get(ptr('a')), isNotFound);
        await assert.rejects(s.destroy(ptr('a')), isNotFound);
        await assert.rejects(s.update(updated), isNotFound);
        assert.deepEqual((await s.list(KIND)).map((r) => r.metadata.id), ['b']);
        assert.deepEqual(await s.list({ namespace: 'other', type: StrType }), []);
        await assert.rejects(s.get({ namespace: 'other', type: StrType, id: 'b' }), isNotFound);
      }),
    );

    it(
      'refuses stale and future versions, and retries them in updateWithConflicts',
      withState(async (s) => {
        const r = await s.create(str('a', 'one'));
        const stale = structuredClone(r);
        await s.update(r);
        await assert.rejects(s.update(stale), (e) => isVersionConflict(e) && isConflict(e) && !isOwnerConflict(e));
        const future = await s.get(ptr('a'));
        future.metadata.version += 5;
        await assert.rejects(s.update(future), isVersionConflict);
        // many concurrent writers: every change lands, each on its own version
        await Promise.all(Array.from({ length: 10 }, (_, i) => s.updateWithConflicts(ptr('a'), (x) => void (x.metadata.labels[`w${i}`] = 'x'))));
        const final = await s.get(ptr('a'));
        assert.equal(final.metadata.version, 12);
        assert.equal(Object.keys(final.metadata.labels).length, 10);
        // a change that changes nothing is not written
        const same = await s.updateWithConflicts(ptr('a'), () => {});
        assert.equal(same.metadata.version, 12);
      }),
    );

    it(
      'enforces owners on update, teardown and destroy',
      withState(async (s) => {
        const r = await s.create(str('a', 'one'), { owner: 'ctrl.A' });
        assert.equal(r.metadata.owner, 'ctrl.A');
        assert.equal((await s.get(ptr('a'))).metadata.owner, 'ctrl.A');
        await assert.rejects(s.update(r), (e) => isOwnerConflict(e) && isConflict(e));
        await assert.rejects(s.update(r, { owner: 'ctrl.B' }), isOwnerConflict);
        const r2 = await s.update(r, { owner: 'ctrl.A' });
        assert.equal(r2.metadata.version, 2);
        await assert.rejects(s.destroy(ptr('a')), isOwnerConflict);
        await assert.rejects(s.destroy(ptr('a'), { owner: 'ctrl.B' }), isOwnerConflict);
        await assert.rejects(s.teardown(ptr('a'), { owner: 'ctrl.B' }), isOwnerConflict);
        // finalizers may be added by anyone
        await s.addFinalizer(ptr('a'), 'someone');
        await s.removeFinalizer(ptr('a'), 'someone');
        await s.destroy(ptr('a'), { owner: 'ctrl.A' });
      }),
    );

    it(
      'checks phases on update',
      withState(async (s) => {
        await s.create(str('a', 'one'));
        assert.equal(await s.teardown(ptr('a')), true);
        // tearing down twice changes nothing
        const torn = await s.get(ptr('a'));
        assert.equal(torn.metadata.phase, 'tearingDown');
        assert.equal(torn.metadata.version, 2);
        assert.equal(await s.teardown(ptr('a')), true);
        assert.equal((await s.get(ptr('a'))).metadata.version, 2);
        await assert.rejects(s.update(torn), (e) => isPhaseConflict(e) && isConflict(e));
        await assert.rejects(s.updateWithConflicts(ptr('a'), setValue('x')), isPhaseConflict);
        await assert.rejects(s.modify(ptr('a'), () => ({ value: '' }), setValue('x')), isPhaseConflict);
        const u = await s.update(torn, { expectedPhase: 'tearingDown' });
        assert.equal(u.metadata.version, 3);
        const u2 = await s.update(u, { expectedPhase: 'any' });
        await assert.rejects(s.update(u2, { expectedPhase: 'running' }), isPhaseConflict);
      }),
    );

    it(
      'tears down, keeps resources with finalizers, and destroys them once released',
      withState(async (s, _f, signal) => {
        await s.create(str('a', 'one'));
        await s.addFinalizer(ptr('a'), 'consumer-1', 'consumer-2');
        await s.addFinalizer(ptr('a'), 'consumer-1');
        assert.deepEqual((await s.get(ptr('a'))).metadata.finalizers, ['consumer-1', 'consumer-2']);
        assert.equal(await s.teardown(ptr('a')), false);
        await assert.rejects(s.destroy(ptr('a')), (e) => isPendingFinalizers(e) && isConflict(e));
        const done = s.teardownAndDestroy(ptr('a'), {}, signal);
        await s.removeFinalizer(ptr('a'), 'consumer-1');
        assert.ok(await s.get(ptr('a')), 'still there with one finalizer');
        await s.removeFinalizer(ptr('a'), 'consumer-2');
        await done;
        await assert.rejects(s.get(ptr('a')), isNotFound);
        await s.create(str('b', 'two'));
        await s.teardownAndDestroy(ptr('b'), {}, signal);
        await assert.rejects(s.get(ptr('b')), isNotFound);
        await assert.rejects(s.teardownAndDestroy(ptr('b'), {}, signal), isNotFound);
      }),
    );

    it(
      'applies concurrent finalizer changes without losing any',
      withState(async (s) => {
        await s.create(str('a', 'one'));
        const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
        await Promise.all(names.map((f) => s.addFinalizer(ptr('a'), f)));
        assert.deepEqual([...(await s.get(ptr('a'))).metadata.finalizers].sort(), [...names].sort());
        await Promise.all(names.map((f) => s.removeFinalizer(ptr('a'), f)));
        assert.deepEqual((await s.get(ptr('a'))).metadata.finalizers, []);
      }),
    );

    it(
      'destroys a resource once when many try at the same time',
      withState(async (s) => {
        await s.create(str('a', 'one'));
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => s.destroy(ptr('a'))));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isNotFound(r.reason));
      }),
    );

    it(
      'modifies: creates with the owner, writes only changes, and refuses other owners',
      withState(async (s) => {
        const a = await s.modify<StrSpec>(ptr('a'), () => ({ value: '' }), (r) => void (r.spec.value = 'one'), { owner: 'c' });
        assert.equal(a.metadata.version, 1);
        assert.equal(a.metadata.owner, 'c');
        assert.equal(a.spec.value, 'one');
        const same = await s.modify<StrSpec>(ptr('a'), () => ({ value: '' }), (r) => void (r.spec.value = 'one'), { owner: 'c' });
        assert.equal(same.metadata.version, 1);
        const b = await s.modify<StrSpec>(ptr('a'), () => ({ value: '' }), (r) => void (r.spec.value = 'two'), { owner: 'c' });
        assert.equal(b.metadata.version, 2);
        assert.equal(valueOf(await s.get(ptr('a'))), 'two');
        await assert.rejects(s.modify<StrSpec>(ptr('a'), () => ({ value: '' }), (r) => void (r.spec.value = 'three')), isOwnerConflict);
        // concurrent modifies of a missing resource: one creates, the others update
        await Promise.all(Array.from({ length: 5 }, (_, i) => s.modify<StrSpec>(ptr('m'), () => ({ value: '' }), (r) => void (r.metadata.labels[`l${i}`] = 'x'))));
        assert.equal(Object.keys((await s.get(ptr('m'))).metadata.labels).length, 5);
      }),
    );

    it(
      'filters lists by label queries (terms AND-ed, queries OR-ed) and ID queries',
      withState(async (s) => {
        await s.create(str('a1', 'x', { tier: 'web', n: '5' }));
        await s.create(str('a2', 'x', { tier: 'db', n: '10' }));
        await s.create(str('b1', 'x', { n: '7' }));
        await s.create(str('b2', 'x', { n: 'seven' }));
        const ids = async (labelQuery?: LabelQuery[], idQuery?: { regexp: string }) => (await s.list(KIND, { labelQuery, idQuery })).map((r) => r.metadata.id);
        const q = (...terms: LabelQuery['terms']): LabelQuery => ({ terms });
        assert.deepEqual(await ids([q({ key: 'tier', op: 'exists' })]), ['a1', 'a2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'exists', invert: true })]), ['b1', 'b2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'equal', value: ['db'] })]), ['a2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'equal', value: ['db'], invert: true })]), ['a1', 'b1', 'b2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'in', value: ['db', 'web'] })]), ['a1', 'a2']);
        assert.deepEqual(await ids([q({ key: 'n', op: 'ltNumeric', value: ['8'] })]), ['a1', 'b1']);
        assert.deepEqual(await ids([q({ key: 'n', op: 'lteNumeric', value: ['7'] })]), ['a1', 'b1']);
        // a comparison that cannot be made matches neither way
        assert.deepEqual(await ids([q({ key: 'n', op: 'ltNumeric', value: ['8'], invert: true })]), ['a2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'lt', value: ['z'], invert: true })]), []);
        assert.deepEqual(await ids([q({ key: 'n', op: 'lt', value: ['6'] })]), ['a1', 'a2']);
        assert.deepEqual(await ids([q({ key: 'n', op: 'lte', value: ['5'] })]), ['a1', 'a2']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'exists' }, { key: 'n', op: 'lteNumeric', value: ['5'] })]), ['a1']);
        assert.deepEqual(await ids([q({ key: 'tier', op: 'equal', value: ['web'] }), q({ key: 'n', op: 'equal', value: ['7'] })]), ['a1', 'b1']);
        assert.deepEqual(await ids(undefined, { regexp: '^a' }), ['a1', 'a2']);
        assert.deepEqual(await ids(undefined, { regexp: '2' }), ['a2', 'b2']);
        assert.deepEqual(await ids([q({ key: 'n', op: 'exists' })], { regexp: '^b' }), ['b1', 'b2']);
      }),
    );

    it(
      'watches one resource: its current state first, then its changes',
      withState(async (s, _f, signal) => {
        const w = await s.watch(ptr('a'), {}, signal);
        assert.deepEqual((await takeEvents(w, 1)).map(brief), ['destroyed:a']);
        await s.create(str('a', 'one'));
        await s.create(str('other', 'x'));
        await s.updateWithConflicts(ptr('a'), setValue('two'));
        await s.teardown(ptr('a'));
        await s.destroy(ptr('a'));
        const evs = await takeEvents(w, 4);
        assert.deepEqual(evs.map(brief), ['created:a=one', 'updated:a=two', 'updated:a=two', 'destroyed:a=two']);
        assert.equal(valueOf(evs[1]!.old), 'one');
        assert.equal(evs[2]!.resource!.metadata.phase, 'tearingDown');
        for (const e of evs) assert.ok(e.bookmark && e.bookmark.length > 0, `${e.type} carries a bookmark`);
        await s.create(str('a', 'three'));
        const w2 = await s.watch(ptr('a'), {}, signal);
        assert.deepEqual((await takeEvents(w2, 1)).map(brief), ['created:a=three']);
        w.close();
        assert.equal((await w.next()).done, true);
      }),
    );

    it(
      'replays the tail of one resource',
      withState(async (s, _f, signal) => {
        await s.create(str('a', 'v1'));
        for (const v of ['v2', 'v3']) await s.updateWithConflicts(ptr('a'), setValue(v));
        await s.create(str('b', 'noise'));
        const w = await s.watch(ptr('a'), { tailEvents: 2 }, signal);
        assert.deepEqual((await takeEvents(w, 2)).map(brief), ['updated:a=v2', 'updated:a=v3']);
        // as far back as the history reaches (a small one may have dropped the creation)
        const all = await s.watch(ptr('a'), { tailEvents: 10 }, signal);
        const history = ['created:a=v1', 'updated:a=v2', 'updated:a=v3'];
        const [oldest] = await takeEvents(all, 1);
        const from = history.indexOf(brief(oldest!));
        assert.ok(from >= 0 && from <= 1, `tail starts at ${brief(oldest!)}`);
        assert.deepEqual((await takeEvents(all, 2 - from)).map(brief), history.slice(from + 1));
        await s.updateWithConflicts(ptr('a'), setValue('v4'));
        assert.deepEqual((await takeEvents(all, 1)).map(brief), ['updated:a=v4']);
        await assert.rejects(async () => (await s.watch(ptr('a'), { tailEvents: 1, startFromBookmark: new Uint8Array(16) }, signal)).next(), isUnsupported);
      }),
    );

    it(
      'resumes a watch of one resource from a bookmark',
      withState(async (s, _f, signal) => {
        const w = await s.watch(ptr('a'), {}, signal);
        await takeEvents(w, 1);
        await s.create(str('a', 'v1'));
        await s.create(str('b', 'noise'));
        await s.updateWithConflicts(ptr('a'), setValue('v2'));
        await s.updateWithConflicts(ptr('a'), setValue('v3'));
        const evs = await takeEvents(w, 3);
        for (let i = 0; i < evs.length; i++) {
          const resumed = await s.watch(ptr('a'), { startFromBookmark: evs[i]!.bookmark }, signal);
          const rest = evs.slice(i + 1).map(brief);
          if (rest.length) assert.deepEqual((await takeEvents(resumed, rest.length)).map(brief), rest);
          resumed.close();
        }
      }),
    );

    for (const mode of ['events', 'batches'] as const) {
      it(
        `watches a kind (${mode}): every change in order, with the old version on updates`,
        withState(async (s, _f, signal) => {
          const w = await kindWatch(s, mode, {}, signal);
          await s.create(str('a', 'one'));
          await s.create(str('b', 'two'));
          await s.updateWithConflicts(ptr('a'), setValue('uno'));
          await s.destroy(ptr('b'));
          const evs = await takeEvents(w, 4);
          assert.deepEqual(evs.map(brief), ['created:a=one', 'created:b=two', 'updated:a=uno', 'destroyed:b=two']);
          assert.equal(valueOf(evs[2]!.old), 'one');
          assert.equal(evs[2]!.resource!.metadata.version, 2);
          // another namespace is another kind
          await s.create({ ...str('c', 'x'), metadata: { ...str('c', 'x').metadata, namespace: 'elsewhere' } });
          await s.create(str('d', 'four'));
          assert.deepEqual((await takeEvents(w, 1)).map(brief), ['created:d=four']);
        }),
      );

      it(
        `watches a kind (${mode}) with bootstrap contents and a bootstrap bookmark`,
        withState(async (s, _f, signal) => {
          await s.create(str('b', 'b1'));
          await s.create(str('a', 'a1'));
          const w = await kindWatch(s, mode, { bootstrapContents: true }, signal);
          const evs = await takeEvents(w, 3);
          assert.deepEqual(evs.map(brief), ['created:a=a1', 'created:b=b1', 'bootstrapped:']);
          const boot = evs[2]!;
          assert.equal(boot.resource?.metadata.namespace, NS);
          assert.equal(boot.resource?.metadata.type, StrType);
          assert.ok(boot.bookmark, 'bootstrapped carries a bookmark');
          await s.create(str('c', 'c1'));
          assert.deepEqual((await takeEvents(w, 1)).map(brief), ['created:c=c1']);
          // resuming from the bootstrapped bookmark gives what happened after the bootstrap
          const resumed = await kindWatch(s, mode, { startFromBookmark: boot.bookmark }, signal);
          assert.deepEqual((await takeEvents(resumed, 1)).map(brief), ['created:c=c1']);
          // a bootstrap bookmark alone: one noop event with a bookmark of the current position
          const marked = await kindWatch(s, mode, { bootstrapBookmark: true }, signal);
          const [noop] = await takeEvents(marked, 1);
          assert.equal(noop!.type, 'noop');
          await s.create(str('d', 'd1'));
          assert.deepEqual((await takeEvents(marked, 1)).map(brief), ['created:d=d1']);
          const fromNoop = await kindWatch(s, mode, { startFromBookmark: noop!.bookmark }, signal);
          assert.deepEqual((await takeEvents(fromNoop, 1)).map(brief), ['created:d=d1']);
          // an empty kind bootstraps with the marker only
          const empty = await s.watchKind({ namespace: 'empty', type: StrType }, { bootstrapContents: true, bootstrapBookmark: true }, signal);
          assert.deepEqual((await takeEvents(empty, 2)).map((e) => e.type), ['bootstrapped', 'noop']);
        }),
      );

      it(
        `watches a kind (${mode}) with tail events`,
        withState(async (s, _f, signal) => {
          for (let i = 0; i < 5; i++) await s.create(str(`r${i}`, `${i}`));
          const w = await kindWatch(s, mode, { tailEvents: 3 }, signal);
          assert.deepEqual((await takeEvents(w, 3)).map(brief), ['created:r2=2', 'created:r3=3', 'created:r4=4']);
          await s.destroy(ptr('r0'));
          assert.deepEqual((await takeEvents(w, 1)).map(brief), ['destroyed:r0=0']);
          await assert.rejects(async () => (await kindWatch(s, mode, { tailEvents: 1, bootstrapContents: true }, signal)).next(), isUnsupported);
        }),
      );

      it(
        `watches a kind (${mode}) through label and ID queries: resources entering and leaving look created and destroyed`,
        withState(async (s, _f, signal) => {
          await s.create(str('a', 'a1', { app: 'x' }));
          await s.create(str('b', 'b1', { app: 'x' }));
          await s.create(str('c', 'c1'));
          const labelQuery = [{ terms: [{ key: 'app', op: 'equal' as const, value: ['x'] }] }];
          const w = await kindWatch(s, mode, { bootstrapContents: true, labelQuery }, signal);
          assert.deepEqual((await takeEvents(w, 3)).map(brief), ['created:a=a1', 'created:b=b1', 'bootstrapped:']);
          await s.updateWithConflicts(ptr('c'), (r) => void (r.metadata.labels.app = 'x'));
          await s.updateWithConflicts(ptr('a'), (r) => void delete r.metadata.labels.app);
          await s.create(str('d', 'd1'));
          await s.updateWithConflicts(ptr('b'), setValue('b2'));
          await s.updateWithConflicts(ptr('d'), setValue('d2'));
          await s.destroy(ptr('b'));
          const evs = await takeEvents(w, 4);
          assert.deepEqual(evs.map(brief), ['created:c=c1', 'destroyed:a=a1', 'updated:b=b2', 'destroyed:b=b2']);
          assert.equal(evs[0]!.old, undefined);
          assert.ok(evs[1]!.bookmark, 'a transformed event keeps its bookmark');
          const byID = await kindWatch(s, mode, { bootstrapContents: true, idQuery: { regexp: '^[cd]$' } }, signal);
          assert.deepEqual((await takeEvents(byID, 3)).map(brief), ['created:c=c1', 'created:d=d2', 'bootstrapped:']);
          await s.create(str('e', 'e1'));
          await s.updateWithConflicts(ptr('c'), setValue('c2'));
          assert.deepEqual((await takeEvents(byID, 1)).map(brief), ['updated:c=c2']);
        }),
      );

      it(
        `resumes a kind watch (${mode}) from the bookmark of any event`,
        withState(async (s, _f, signal) => {
          const w = await kindWatch(s, mode, {}, signal);
          await s.create(str('a', 'one'));
          await s.create(str('b', 'two'));
          await s.updateWithConflicts(ptr('a'), setValue('uno'));
          await s.destroy(ptr('b'));
          const evs = await takeEvents(w, 4);
          for (let i = 0; i < evs.length; i++) {
            const resumed = await kindWatch(s, mode, { startFromBookmark: evs[i]!.bookmark }, signal);
            await s.create(str(`after${i}`, 'x'));
            const expected = [...evs.slice(i + 1).map(brief), ...Array.from({ length: i + 1 }, (_, j) => `created:after${j}=x`)];
            assert.deepEqual((await takeEvents(resumed, expected.length)).map(brief), expected);
            resumed.close();
          }
        }),
      );
    }

    it(
      'delivers aggregated watches as batches of what happened since the last one',
      withState(async (s, f, signal) => {
        await s.create(str('a', 'a1'));
        const w = await s.watchKindAggregated(KIND, { bootstrapContents: true }, signal);
        const [boot] = await take(w, 1);
        assert.deepEqual(boot!.map(brief), ['created:a=a1', 'bootstrapped:']);
        // a burst of writes in one turn, within what the history holds
        const n = Math.min(50, (f.historyCapacity ?? 1024) - 2);
        const ids = Array.from({ length: n }, (_, i) => `r${String(i).padStart(2, '0')}`);
        await Promise.all(ids.map((id) => s.create(str(id, 'x'))));
        const evs = await takeEvents(w, n);
        assert.deepEqual(evs.map(brief), ids.map((id) => `created:${id}=x`));
      }),
    );

    it(
      'refuses bookmarks it did not issue',
      withState(async (s, _f, signal) => {
        await s.create(str('a', 'x'));
        await assert.rejects(async () => (await s.watchKind(KIND, { startFromBookmark: Buffer.alloc(16, 7) }, signal)).next(), isInvalidBookmark);
        await assert.rejects(async () => (await s.watch(ptr('a'), { startFromBookmark: Buffer.from('nonsense') }, signal)).next(), isInvalidBookmark);
      }),
    );

    it(
      'gives a watcher that falls behind an overrun error instead of blocking writers',
      withState(async (s, f, signal) => {
        if (!f.historyCapacity) return;
        const w = await s.watchKind(KIND, {}, signal);
        const [first] = await Promise.all([w.next(), s.create(str('r-first', 'x'))]);
        assert.equal(first.done, false);
        // the writer does not wait for the watcher
        for (let i = 0; i < f.historyCapacity + 10; i++) await s.create(str(`r${i}`, 'x'));
        let errored: StateEvent | undefined;
        for (let i = 0; i < f.historyCapacity + 11 && !errored; i++) {
          const [e] = await takeEvents(w, 1);
          if (e!.type === 'errored') errored = e;
        }
        assert.ok(errored, 'no errored event');
        assert.match(errored.error!, /overrun/);
        assert.equal((await w.next()).done, true, 'the watch ends after its error');
        // the writes all happened
        assert.equal((await s.list(KIND)).length, f.historyCapacity + 11);
      }),
    );

    it(
      'waits for a condition with watchFor',
      withState(async (s, _f, signal) => {
        const waiting = s.watchFor(ptr('a'), (r) => valueOf(r) === 'ready', signal);
        await s.create(str('a', 'starting'));
        await s.updateWithConflicts(ptr('a'), setValue('ready'));
        assert.equal(valueOf(await waiting), 'ready');
        const gone = s.watchFor(ptr('a'), (r) => r === undefined, signal);
        await s.destroy(ptr('a'));
        assert.equal(await gone, undefined);
        assert.equal(await s.watchFor(ptr('a'), (r) => r === undefined, signal), undefined, 'already true: at once');
      }),
    );

    it(
      'gives a signal that aborts when the resource is torn down',
      withState(async (s, _f, signal) => {
        assert.equal((await s.teardownSignal(ptr('missing'), signal)).aborted, true);
        await s.create(str('a', 'one'));
        const sig = await s.teardownSignal(ptr('a'), signal);
        assert.equal(sig.aborted, false);
        const aborted = new Promise<void>((resolve) => sig.addEventListener('abort', () => resolve(), { once: true }));
        await s.updateWithConflicts(ptr('a'), setValue('two'));
        assert.equal(sig.aborted, false);
        await s.teardown(ptr('a'));
        await aborted;
        assert.equal(sig.aborted, true);
      }),
    );
  });
}
