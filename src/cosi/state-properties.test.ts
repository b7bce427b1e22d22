import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { takeEvents } from './conformance/state-suite.js';
import { CosiError, isAlreadyExists, isNotFound, isOwnerConflict, isPendingFinalizers, isPhaseConflict, isVersionConflict } from './errors.js';
import { InMemoryState } from './inmem.js';
import { newResource, type Pointer } from './resource.js';
import { State } from './state.js';

const ptr = (id: string): Pointer => ({ namespace: 'p', type: 'Props.test.bronze.dev', id });

type Op =
  | { op: 'create'; id: string; owner: string }
  | { op: 'update'; id: string; owner: string; versionDelta: number; phase: 'running' | 'tearingDown' | 'any' }
  | { op: 'teardown'; id: string; owner: string }
  | { op: 'addFinalizer'; id: string; f: string }
  | { op: 'removeFinalizer'; id: string; f: string }
  | { op: 'destroy'; id: string; owner: string };

const id = fc.constantFrom('a', 'b');
const owner = fc.constantFrom('', 'c1', 'c2');
const fin = fc.constantFrom('f1', 'f2');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), id, owner }),
  fc.record({ op: fc.constant('update' as const), id, owner, versionDelta: fc.integer({ min: -2, max: 2 }), phase: fc.constantFrom('running' as const, 'tearingDown' as const, 'any' as const) }),
  fc.record({ op: fc.constant('teardown' as const), id, owner }),
  fc.record({ op: fc.constant('addFinalizer' as const), id, f: fin }),
  fc.record({ op: fc.constant('removeFinalizer' as const), id, f: fin }),
  fc.record({ op: fc.constant('destroy' as const), id, owner }),
);

interface Model {
  version: number;
  owner: string;
  phase: 'running' | 'tearingDown';
  finalizers: string[];
}

/** Runs one operation on the model, returning the error kind the store must give (or undefined for success). */
function apply(model: Map<string, Model>, o: Op): ((e: unknown) => boolean) | undefined {
  const m = model.get(o.id);
  switch (o.op) {
    case 'create':
      if (m) return isAlreadyExists;
      model.set(o.id, { version: 1, owner: o.owner, phase: 'running', finalizers: [] });
      return undefined;
    case 'update':
      if (!m) return isNotFound;
      if (o.owner !== m.owner) return isOwnerConflict;
      if (o.versionDelta !== 0) return isVersionConflict;
      if (o.phase !== 'any' && o.phase !== m.phase) return isPhaseConflict;
      m.version++;
      return undefined;
    case 'teardown':
      if (!m) return isNotFound;
      // tearing down again is a no-op, whoever asks
      if (m.phase === 'tearingDown') return undefined;
      if (o.owner !== m.owner) return isOwnerConflict;
      m.version++;
      m.phase = 'tearingDown';
      return undefined;
    case 'addFinalizer':
      if (!m) return isNotFound;
      if (!m.finalizers.includes(o.f)) {
        m.finalizers.push(o.f);
        m.version++;
      }
      return undefined;
    case 'removeFinalizer':
      if (!m) return isNotFound;
      if (m.finalizers.includes(o.f)) {
        m.finalizers = m.finalizers.filter((x) => x !== o.f);
        m.version++;
      }
      return undefined;
    case 'destroy':
      if (!m) return isNotFound;
      if (o.owner !== m.owner) return isOwnerConflict;
      if (m.finalizers.length > 0) return isPendingFinalizers;
      model.delete(o.id);
      return undefined;
  }
}

describe('state version and phase rules (property)', () => {
  it('match a model for any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const s = new State(new InMemoryState());
        const model = new Map<string, Model>();
        for (const o of ops) {
          const expectErr = apply(model, o);
          let err: unknown;
          try {
            switch (o.op) {
              case 'create':
                await s.create(newResource(ptr(o.id), { n: 1 }), { owner: o.owner });
                break;
              case 'update': {
                const cur = await s.get(ptr(o.id));
                cur.metadata.version += o.versionDelta;
                await s.update(cur, { owner: o.owner, expectedPhase: o.phase });
                break;
              }
              case 'teardown':
                await s.teardown(ptr(o.id), { owner: o.owner });
                break;
              case 'addFinalizer':
                await s.addFinalizer(ptr(o.id), o.f);
                break;
              case 'removeFinalizer':
                await s.removeFinalizer(ptr(o.id), o.f);
                break;
              case 'destroy':
                await s.destroy(ptr(o.id), { owner: o.owner });
                break;
            }
          } catch (e) {
            err = e;
          }
          if (expectErr) assert.ok(err && expectErr(err), `${JSON.stringify(o)}: expected an error, got ${err ? (err as Error).message : 'success'}`);
          else assert.equal(err, undefined, `${JSON.stringify(o)}: ${(err as Error | undefined)?.message}`);
          assert.ok(!err || err instanceof CosiError, 'errors are classified');
        }
        for (const x of ['a', 'b']) {
          const m = model.get(x);
          if (!m) {
            await assert.rejects(s.get(ptr(x)), isNotFound);
            continue;
          }
          const r = await s.get(ptr(x));
          assert.equal(r.metadata.version, m.version);
          assert.equal(r.metadata.phase, m.phase);
          assert.equal(r.metadata.owner, m.owner);
          assert.deepEqual([...r.metadata.finalizers].sort(), [...m.finalizers].sort());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('give every successful write the next version, and watchers see each version once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(id, fc.constantFrom('write', 'noop', 'recreate')), { minLength: 1, maxLength: 30 }), async (steps) => {
        const s = new State(new InMemoryState());
        const ac = new AbortController();
        try {
          const w = await s.watchKind({ namespace: 'p', type: 'Props.test.bronze.dev' }, {}, ac.signal);
          const expected: string[] = [];
          const versions = new Map<string, number>();
          let n = 0;
          for (const [x, step] of steps) {
            const v = versions.get(x);
            if (v === undefined || step === 'recreate') {
              if (v !== undefined) {
                await s.destroy(ptr(x));
                expected.push(`destroyed:${x}@${v}`);
              }
              await s.create(newResource(ptr(x), { n: n++ }));
              versions.set(x, 1);
              expected.push(`created:${x}@1`);
            } else if (step === 'write') {
              const r = await s.updateWithConflicts(ptr(x), (cur) => void ((cur.spec as { n: number }).n = n++));
              assert.equal(r.metadata.version, v + 1);
              versions.set(x, v + 1);
              expected.push(`updated:${x}@${v + 1}`);
            } else {
              // a change to the same value is no write at all
              const r = await s.updateWithConflicts(ptr(x), () => {});
              assert.equal(r.metadata.version, v);
            }
          }
          const seen = await takeEvents(w, expected.length);
          assert.deepEqual(
            seen.map((e) => `${e.type}:${e.resource?.metadata.id}@${e.resource?.metadata.version}`),
            expected,
          );
        } finally {
          ac.abort();
        }
      }),
      { numRuns: 200 },
    );
  });
});
