import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Event, SequenceEvent_Action, TaskEvent_Action } from '../../api/gen/machine/machine.js';
import { Code } from '../../api/gen/common/common.js';
import { EventStream, XidGenerator, decodePayload, encodeXid, helloEvent, parseXid, toMachineEvent, withActor, xidSeconds, type StoredEvent } from './index.js';

const task = (name: string) => ({ task: name, action: TaskEvent_Action.START });

async function take(it: AsyncIterator<StoredEvent>, n: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const names = (events: StoredEvent[]) => events.map((e) => (e.message as { task: string }).task);

describe('xid', () => {
  test('rs/xid test vector', () => {
    const bytes = Uint8Array.from([0x4d, 0x88, 0xe1, 0x5b, 0x60, 0xf4, 0x86, 0xe4, 0x28, 0x41, 0x2d, 0xc9]);
    assert.equal(encodeXid(bytes), '9m4e2mr0ui3e8a215n4g');
    assert.deepEqual(parseXid('9m4e2mr0ui3e8a215n4g'), bytes);
    assert.equal(xidSeconds(bytes), 1300816219);
  });

  test('invalid ids are refused', () => {
    for (const bad of ['', '9m4e2mr0ui3e8a215n4', '9m4e2mr0ui3e8a215n4G', '9m4e2mr0ui3e8a215n4w', '9m4e2mr0ui3e8a215n41']) {
      assert.throws(() => parseXid(bad), { code: 'BRONZE_EVENTS_INVALID_ID', message: 'xid: invalid ID' }, bad);
    }
  });

  test('round trip and order preservation (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), (a, b) => {
        const sa = encodeXid(a);
        assert.match(sa, /^[0-9a-v]{19}[0g]$/);
        assert.deepEqual(parseXid(sa), a);
        const byBytes = Buffer.compare(Buffer.from(a), Buffer.from(b));
        const byString = sa < encodeXid(b) ? -1 : sa > encodeXid(b) ? 1 : 0;
        assert.equal(byString, byBytes);
      }),
    );
  });

  test('generator: layout and strictly increasing ids', () => {
    let now = 1_700_000_000_500;
    const gen = new XidGenerator({ machineId: Uint8Array.from([1, 2, 3]), pid: 0x1234, counter: 0xfffffe, now: () => now });
    const a = gen.nextBytes();
    assert.equal(xidSeconds(a), 1_700_000_000);
    assert.deepEqual([...a.subarray(4, 12)], [1, 2, 3, 0x12, 0x34, 0xff, 0xff, 0xfe]);
    const ids = [encodeXid(a)];
    for (let i = 0; i < 5; i++) {
      now += 400;
      ids.push(gen.next());
    }
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('event stream', () => {
  test('watchers see new events; Any type URLs and payloads round-trip the wire', async () => {
    const s = new EventStream();
    const it = s.watch();
    s.publish('machine.SequenceEvent', { sequence: 'boot', action: SequenceEvent_Action.NOOP, error: { code: Code.LOCKED, message: 'sequence not started: locked', details: [] } });
    const [e] = await take(it, 1);
    const wire = Event.decode(Event.encode(toMachineEvent(e)).finish());
    assert.equal(wire.data?.typeUrl, 'talos/runtime/machine.SequenceEvent');
    assert.equal(wire.id, e.id);
    assert.equal(wire.id.length, 20);
    const decoded = decodePayload(wire.data!.typeUrl, wire.data!.value);
    assert.deepEqual(decoded?.message, { sequence: 'boot', action: SequenceEvent_Action.NOOP, error: { code: Code.LOCKED, message: 'sequence not started: locked', details: [] } });
    await it.return!();
  });

  test('tail_events: last N, negative = all buffered (capacity - gap)', async () => {
    const s = new EventStream({ capacity: 20, gap: 5 });
    for (let i = 0; i < 30; i++) s.publish('machine.TaskEvent', task(`t${i}`));
    assert.deepEqual(names(await take(s.watch({ tailEvents: 3 }), 3)), ['t27', 't28', 't29']);
    const all = await take(s.watch({ tailEvents: -1 }), 15);
    assert.deepEqual(names(all), Array.from({ length: 15 }, (_, i) => `t${i + 15}`));
    assert.deepEqual(names(await take(s.watch({ tailEvents: 100 }), 15)), names(all));
    assert.equal(s.history().length, 15);
  });

  test('tail_id: events after the given id; a bad id is an error', async () => {
    const s = new EventStream();
    const events = Array.from({ length: 5 }, (_, i) => s.publish('machine.TaskEvent', task(`t${i}`)));
    assert.deepEqual(names(await take(s.watch({ tailId: events[2].id }), 2)), ['t3', 't4']);
    assert.throws(() => s.watch({ tailId: 'nope' }), { code: 'BRONZE_EVENTS_INVALID_ID', message: 'error parsing tail_id: xid: invalid ID' });
    assert.throws(() => s.watch({ tailId: events[0].id, tailEvents: 1 }), { code: 'BRONZE_EVENTS_INVALID_OPTIONS' });
  });

  test('tail_seconds uses the id timestamps', async () => {
    let now = 1_000_000_000;
    const s = new EventStream({ now: () => now });
    s.publish('machine.TaskEvent', task('old'));
    now += 60_000;
    s.publish('machine.TaskEvent', task('recent'));
    now += 5_000;
    assert.deepEqual(names(await take(s.watch({ tailSeconds: 10 }), 1)), ['recent']);
    assert.deepEqual(names(await take(s.watch({ tailSeconds: 120 }), 2)), ['old', 'recent']);
  });

  test('actor ids: from the context, and as a filter', async () => {
    const s = new EventStream();
    const it = s.watch({ tailEvents: -1, actorId: 'actor-1' });
    s.publish('machine.TaskEvent', task('none'));
    await withActor('actor-1', async () => {
      await Promise.resolve();
      s.publish('machine.TaskEvent', task('mine'));
    });
    s.publish('machine.TaskEvent', task('explicit'), 'actor-1');
    withActor('actor-2', () => s.publish('machine.TaskEvent', task('other')));
    const got = await take(it, 2);
    assert.deepEqual(names(got), ['mine', 'explicit']);
    assert.ok(got.every((e) => e.actorId === 'actor-1'));
  });

  test('a watcher that falls a full ring behind is dropped; publishing never waits', async () => {
    const s = new EventStream({ capacity: 50, gap: 5 });
    const slow = s.watch();
    const fast = s.watch();
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) s.publish('machine.TaskEvent', task(`t${i}`));
    assert.ok(performance.now() - start < 5_000);
    await assert.rejects(slow.next(), { code: 'BRONZE_EVENTS_OVERRUN' });
    assert.equal((await slow.next()).done, true);
    await assert.rejects(fast.next(), { code: 'BRONZE_EVENTS_OVERRUN' });
    // a watcher that keeps up is not affected
    const keeping = s.watch();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of keeping) {
        seen.push((e.message as { task: string }).task);
        if (seen.length === 200) break;
      }
    })();
    for (let i = 0; i < 200; i++) {
      s.publish('machine.TaskEvent', task(`k${i}`));
      if (i % 40 === 39) await new Promise((r) => setImmediate(r));
    }
    await reader;
    assert.equal(seen.length, 200);
    assert.equal(seen[199], 'k199');
  });

  test('aborting ends a waiting watcher', async () => {
    const s = new EventStream();
    const ac = new AbortController();
    const it = s.watch({ signal: ac.signal });
    const pending = it.next();
    ac.abort();
    assert.deepEqual(await pending, { done: true, value: undefined });
  });

  test('hello event: empty Any, fresh id, requested actor', () => {
    const s = new EventStream();
    const hello = helloEvent(s, 'abc');
    const wire = Event.decode(Event.encode(hello).finish());
    assert.equal(wire.data?.typeUrl, '');
    assert.equal(wire.data?.value.length, 0);
    assert.equal(wire.actorId, 'abc');
    assert.doesNotThrow(() => parseXid(wire.id));
  });
});
