import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateConformance, takeEvents } from './conformance/state-suite.js';
import { isInvalidBookmark } from './errors.js';
import { InMemoryState } from './inmem.js';
import { newResource } from './resource.js';

stateConformance('in memory', async () => ({ state: new InMemoryState(), cleanup: async () => {} }));
stateConformance('in memory, history of 64', async () => ({ state: new InMemoryState({ historyCapacity: 64 }), historyCapacity: 64, cleanup: async () => {} }));
stateConformance('in memory, history growing from 2 to 16', async () => ({
  state: new InMemoryState({ historyInitialCapacity: 2, historyMaxCapacity: 16, historyGap: 1 }),
  historyCapacity: 16,
  cleanup: async () => {},
}));

const kind = { namespace: 'n', type: 'Things.test.bronze.dev' };

describe('in-memory state', () => {
  it('grows its history up to the maximum, then refuses bookmarks that left it or sit in the gap', async () => {
    const s = new InMemoryState({ historyInitialCapacity: 2, historyMaxCapacity: 8, historyGap: 2 });
    const ac = new AbortController();
    try {
      const w = await s.watchKind(kind, {}, ac.signal);
      for (let i = 0; i < 12; i++) await s.create(newResource({ ...kind, id: `r${i}` }, {}));
      // 12 events, 8 held (4..11); a watch may start no earlier than 4 + 2
      // 12 events written while the watcher read none: the first 4 have left the history
      const [overrun] = await takeEvents(w, 1);
      assert.equal(overrun!.type, 'errored');
      assert.match(overrun!.error!, /overrun/);
      assert.equal((await w.next()).done, true);
      const tail = await s.watchKind(kind, { tailEvents: 100 }, ac.signal);
      assert.deepEqual((await takeEvents(tail, 6)).map((e) => e.resource?.metadata.id), ['r6', 'r7', 'r8', 'r9', 'r10', 'r11']);
      const all = await s.watchKind(kind, { tailEvents: 6 }, ac.signal);
      const held = await takeEvents(all, 6);
      // the event at 5 is in the history but within the gap: resuming after it (at 6) is fine, after 4 is not
      const at = (ev: (typeof held)[number]) => Number(Buffer.from(ev.bookmark!).readBigInt64BE(8));
      assert.equal(at(held[0]!), 6);
      await s.watchKind(kind, { startFromBookmark: held[0]!.bookmark }, ac.signal);
      const early = Buffer.from(held[0]!.bookmark!);
      early.writeBigInt64BE(4n, 8);
      await assert.rejects(s.watchKind(kind, { startFromBookmark: early }, ac.signal), isInvalidBookmark);
      const future = Buffer.from(held[0]!.bookmark!);
      future.writeBigInt64BE(12n, 8);
      await assert.rejects(s.watchKind(kind, { startFromBookmark: future }, ac.signal), isInvalidBookmark);
      // another store's bookmark is refused even at a valid position
      await assert.rejects(new InMemoryState().watchKind(kind, { startFromBookmark: held[0]!.bookmark }, ac.signal), isInvalidBookmark);
    } finally {
      ac.abort();
    }
  });

  it('bootstraps an empty kind with a bookmark that resumes from its first event', async () => {
    const s = new InMemoryState();
    const ac = new AbortController();
    try {
      const w = await s.watchKind(kind, { bootstrapContents: true }, ac.signal);
      const [boot] = await takeEvents(w, 1);
      assert.equal(boot!.type, 'bootstrapped');
      assert.equal(Buffer.from(boot!.bookmark!).readBigInt64BE(8), -1n);
      await s.create(newResource({ ...kind, id: 'a' }, {}));
      const resumed = await s.watchKind(kind, { startFromBookmark: boot!.bookmark }, ac.signal);
      assert.deepEqual((await takeEvents(resumed, 1)).map((e) => e.resource?.metadata.id), ['a']);
    } finally {
      ac.abort();
    }
  });

  it('ends every watch sharing a signal when it aborts, and keeps none registered', async () => {
    const s = new InMemoryState();
    const ac = new AbortController();
    const watches = await Promise.all(Array.from({ length: 100 }, () => s.watchKind(kind, {}, ac.signal)));
    const pending = watches.map((w) => w.next());
    ac.abort();
    for (const r of await Promise.all(pending)) assert.equal(r.done, true);
    const late = await s.watchKind(kind, {}, ac.signal);
    assert.equal((await late.next()).done, true, 'a watch on an aborted signal ends at once');
  });

  it('validates its options', () => {
    assert.throws(() => new InMemoryState({ historyCapacity: 0 }), /historyInitialCapacity/);
    assert.throws(() => new InMemoryState({ historyCapacity: 4, historyGap: 4 }), /historyGap/);
  });
});
