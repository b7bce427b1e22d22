import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ADV_BLOCK_SIZE,
  ADV_DATA_SIZE,
  META_AREA_SIZE,
  MetaError,
  MetaStore,
  MetaTags,
  decodeADV,
  decodeMetaArea,
  encodeADV,
  encodeMetaArea,
  metaKeyID,
} from './index.js';

const CHECKSUM_AT = ADV_BLOCK_SIZE - 36;

/** SHA-256 of a block with its checksum field zeroed, computed independently of the module. */
function expectedChecksum(block: Buffer): Buffer {
  const copy = Buffer.from(block);
  copy.fill(0, CHECKSUM_AT, CHECKSUM_AT + 32);
  return createHash('sha256').update(copy).digest();
}

/** A hand-made block: magics, the given bytes at offset 4, and a correct checksum. */
function sealedBlock(records: number[]): Buffer {
  const b = Buffer.alloc(ADV_BLOCK_SIZE);
  b.writeUInt32BE(0x5a4b3c2d, 0);
  Buffer.from(records).copy(b, 4);
  b.writeUInt32BE(0xa5b4c3d2, ADV_BLOCK_SIZE - 4);
  expectedChecksum(b).copy(b, CHECKSUM_AT);
  return b;
}

const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** Maps of storable tags to values, small enough to always fit. */
const valueMaps = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 1024 })), { selector: ([tag]) => tag, maxLength: 40 })
  .map((pairs) => new Map(pairs.map(([tag, v]) => [tag, Buffer.from(v)])));

function assertMetaError(code: string, grpcCode?: number, message?: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof MetaError, `expected a MetaError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (grpcCode !== undefined) assert.equal(e.grpcCode, grpcCode);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

describe('ADV block format', { timeout: 60_000 }, () => {
  test('byte layout of a small map, by hand', () => {
    // Inserted out of order: records come out in ascending tag order.
    const b = encodeADV(
      new Map([
        [0x0a, Buffer.from('hi')],
        [0x07, Buffer.from([1, 2, 3])],
      ]),
    );
    assert.equal(b.length, 256 * 1024);
    const head = [
      ...[0x5a, 0x4b, 0x3c, 0x2d], // magic1
      ...[0, 0, 0, 0x07, 0, 0, 0, 3, 1, 2, 3], // tag 7, size 3, value
      ...[0, 0, 0, 0x0a, 0, 0, 0, 2, 0x68, 0x69], // tag 10, size 2, "hi"
      ...[0, 0, 0, 0], // terminator
    ];
    assert.deepEqual([...b.subarray(0, head.length)], head);
    assert.ok(b.subarray(head.length, CHECKSUM_AT).every((x) => x === 0), 'zeros up to the checksum');
    assert.deepEqual([...b.subarray(ADV_BLOCK_SIZE - 4)], [0xa5, 0xb4, 0xc3, 0xd2]);

    const hand = Buffer.alloc(ADV_BLOCK_SIZE);
    Buffer.from(head).copy(hand, 0);
    hand.writeUInt32BE(0xa5b4c3d2, ADV_BLOCK_SIZE - 4);
    const sum = createHash('sha256').update(hand).digest();
    assert.deepEqual(b.subarray(CHECKSUM_AT, CHECKSUM_AT + 32), sum);
    assert.deepEqual(b.subarray(CHECKSUM_AT, CHECKSUM_AT + 32), expectedChecksum(b));
  });

  test('an empty map is magic, terminator, checksum, magic', () => {
    const b = encodeADV(new Map());
    assert.equal(b.readUInt32BE(0), 0x5a4b3c2d);
    assert.ok(b.subarray(4, CHECKSUM_AT).every((x) => x === 0));
    assert.deepEqual(b.subarray(CHECKSUM_AT, CHECKSUM_AT + 32), expectedChecksum(b));
    assert.equal(b.readUInt32BE(ADV_BLOCK_SIZE - 4), 0xa5b4c3d2);
    assert.deepEqual(decodeADV(b), new Map());
  });

  test('the area is the block twice', () => {
    const values = new Map([[MetaTags.UUIDOverride, Buffer.from('8c2b1e3f')]]);
    const area = encodeMetaArea(values);
    assert.equal(area.length, META_AREA_SIZE);
    assert.deepEqual(area.subarray(0, ADV_BLOCK_SIZE), encodeADV(values));
    assert.deepEqual(area.subarray(ADV_BLOCK_SIZE), encodeADV(values));
  });

  test('round trip of any map that fits, whatever the insertion order', () => {
    fc.assert(
      fc.property(valueMaps, (values) => {
        const block = encodeADV(values);
        assert.deepEqual(decodeADV(block), values);
        assert.deepEqual(decodeMetaArea(encodeMetaArea(values)), values);
        assert.deepEqual(encodeADV(new Map([...values].reverse())), block);
      }),
      { numRuns: 100 },
    );
  });

  test('any damaged byte in copy 1 is detected and copy 2 is read', () => {
    fc.assert(
      fc.property(valueMaps, fc.integer({ min: 0, max: ADV_BLOCK_SIZE - 1 }), fc.integer({ min: 1, max: 255 }), (values, at, flip) => {
        const area = encodeMetaArea(values);
        area[at] ^= flip;
        assert.throws(() => decodeADV(area.subarray(0, ADV_BLOCK_SIZE)), MetaError);
        assert.deepEqual(decodeMetaArea(area), values);
      }),
      { numRuns: 100 },
    );
  });

  test('corrupt copy 1 falls back to copy 2; both corrupt is an error', () => {
    const area = encodeMetaArea(new Map([[MetaTags.StagedUpgradeImageRef, Buffer.from('ghcr.io/siderolabs/installer:v1.13.9')]]));
    area[100] ^= 0xff;
    assert.equal(decodeMetaArea(area).get(0x07)?.toString(), 'ghcr.io/siderolabs/installer:v1.13.9');
    area.writeUInt32BE(0, ADV_BLOCK_SIZE); // magic1 of copy 2
    assert.throws(
      () => decodeMetaArea(area),
      (e) => {
        assertMetaError('BRONZE_META_CORRUPT', 15)(e);
        assert.equal(((e as Error).cause as MetaError).code, 'BRONZE_META_BAD_CHECKSUM');
        return true;
      },
    );
  });

  test('a missing, empty or all-zero area is empty; other garbage is not', () => {
    assert.deepEqual(decodeMetaArea(Buffer.alloc(0)), new Map());
    assert.deepEqual(decodeMetaArea(Buffer.alloc(META_AREA_SIZE)), new Map());
    const junk = Buffer.alloc(META_AREA_SIZE);
    junk[META_AREA_SIZE - 1] = 1;
    assert.throws(() => decodeMetaArea(junk), assertMetaError('BRONZE_META_CORRUPT'));
  });

  test('decoding errors carry codes', () => {
    const good = encodeADV(new Map([[1, Buffer.from('x')]]));
    assert.throws(() => decodeADV(good.subarray(0, ADV_BLOCK_SIZE - 1)), assertMetaError('BRONZE_META_BAD_LENGTH', 15));
    const m1 = Buffer.from(good);
    m1[0] = 0;
    assert.throws(() => decodeADV(m1), assertMetaError('BRONZE_META_BAD_MAGIC', 15));
    const m2 = Buffer.from(good);
    m2[ADV_BLOCK_SIZE - 1] = 0;
    assert.throws(() => decodeADV(m2), assertMetaError('BRONZE_META_BAD_MAGIC'));
    const sum = Buffer.from(good);
    sum[CHECKSUM_AT] ^= 1;
    assert.throws(() => decodeADV(sum), assertMetaError('BRONZE_META_BAD_CHECKSUM'));
    const data = Buffer.from(good);
    data[12] ^= 1; // the value byte
    assert.throws(() => decodeADV(data), assertMetaError('BRONZE_META_BAD_CHECKSUM'));
    // Correct checksums, bad records.
    assert.throws(() => decodeADV(sealedBlock([...u32(5), ...u32(ADV_DATA_SIZE - 7)])), assertMetaError('BRONZE_META_TRUNCATED', 15));
    assert.throws(() => decodeADV(sealedBlock([...u32(256), ...u32(1), 9])), assertMetaError('BRONZE_META_BAD_TAG', 15));
  });

  test('records after the terminator are ignored; a repeated tag keeps its last value', () => {
    const b = sealedBlock([...u32(3), ...u32(1), 0x61, ...u32(3), ...u32(1), 0x62, ...u32(0), ...u32(4), ...u32(1), 0x63]);
    assert.deepEqual(decodeADV(b), new Map([[3, Buffer.from('b')]]));
  });

  test('capacity: exactly full fits, one byte more is ResourceExhausted', () => {
    assert.equal(ADV_DATA_SIZE, 256 * 1024 - 40);
    const full = new Map([[9, Buffer.alloc(ADV_DATA_SIZE - 8, 0xab)]]);
    const block = encodeADV(full);
    // The record runs right up to the checksum; there is no room for a terminator.
    assert.equal(block.readUInt32BE(4), 9);
    assert.equal(block.readUInt32BE(8), ADV_DATA_SIZE - 8);
    assert.equal(block[CHECKSUM_AT - 1], 0xab);
    assert.deepEqual(decodeADV(block), full);
    assert.throws(() => encodeADV(new Map([[9, Buffer.alloc(ADV_DATA_SIZE - 7)]])), assertMetaError('BRONZE_META_FULL', 8, 'meta write failed'));

    const two = new Map([
      [1, Buffer.alloc(100)],
      [2, Buffer.alloc(ADV_DATA_SIZE - 16 - 100)],
    ]);
    assert.deepEqual(decodeMetaArea(encodeMetaArea(two)), two);
    two.set(3, Buffer.alloc(0)); // an empty value still takes its 8-byte header
    assert.throws(() => encodeMetaArea(two), assertMetaError('BRONZE_META_FULL'));
  });

  test('tags outside 1..255 cannot be encoded', () => {
    assert.throws(() => encodeADV(new Map([[256, Buffer.alloc(1)]])), assertMetaError('BRONZE_META_INVALID_KEY', 3, 'key must be a uint8'));
    assert.throws(() => encodeADV(new Map([[-1, Buffer.alloc(1)]])), assertMetaError('BRONZE_META_INVALID_KEY'));
    assert.throws(() => encodeADV(new Map([[1.5, Buffer.alloc(1)]])), assertMetaError('BRONZE_META_INVALID_KEY'));
    assert.throws(() => encodeADV(new Map([[0, Buffer.alloc(1)]])), assertMetaError('BRONZE_META_RESERVED_KEY', 3, 'meta key 0 is reserved'));
  });

  test('well-known tags and resource ids', () => {
    assert.equal(MetaTags.Upgrade, 0x06);
    assert.equal(MetaTags.MetalNetworkPlatformConfig, 0x0a);
    assert.equal(MetaTags.DiskImageBootloader, 0x11);
    assert.equal(metaKeyID(MetaTags.MetalNetworkPlatformConfig), '0x0a');
    assert.equal(metaKeyID(0x10), '0x10');
    assert.equal(metaKeyID(255), '0xff');
    assert.throws(() => metaKeyID(256), assertMetaError('BRONZE_META_INVALID_KEY'));
  });
});

describe('MetaStore', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'bronze-meta-'));
  let n = 0;
  const fresh = () => join(root, `case-${n++}`, 'meta');
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a missing file is an error unless create is set', async () => {
    const path = fresh();
    await assert.rejects(MetaStore.open(path, { create: false }), assertMetaError('BRONZE_META_MISSING'));
    const store = await MetaStore.open(path, { create: true });
    assert.equal(store.backing, 'file');
    assert.deepEqual(store.entries(), []);
    assert.equal(statSync(path).size, META_AREA_SIZE);
    assert.deepEqual(readFileSync(path), encodeMetaArea(new Map()));
  });

  test('values persist across reopen, deletes too', async () => {
    const path = fresh();
    const store = await MetaStore.open(path, { create: true });
    await store.set(MetaTags.UserReserved1, Buffer.from('one'));
    await store.set(MetaTags.UserReserved2, Buffer.from('two'));
    await store.set(MetaTags.UserReserved1, Buffer.from('uno'));
    assert.deepEqual(decodeMetaArea(readFileSync(path)), new Map([
      [0x0c, Buffer.from('uno')],
      [0x0d, Buffer.from('two')],
    ]));

    const again = await MetaStore.open(path, { create: false });
    assert.equal(again.get(0x0c)?.toString(), 'uno');
    assert.deepEqual(
      again.entries().map(([t, v]) => [t, v.toString()]),
      [
        [0x0c, 'uno'],
        [0x0d, 'two'],
      ],
    );
    await again.delete(0x0c);
    const third = await MetaStore.open(path, { create: false });
    assert.equal(third.has(0x0c), false);
    assert.equal(third.get(0x0d)?.toString(), 'two');
    assert.equal(third.usage, 8 + 3);
  });

  test('refusals carry Talos status codes and messages', async () => {
    const store = await MetaStore.open(fresh(), { create: true });
    await assert.rejects(store.set(256, Buffer.from('x')), assertMetaError('BRONZE_META_INVALID_KEY', 3, 'key must be a uint8'));
    await assert.rejects(store.set(-1, Buffer.from('x')), assertMetaError('BRONZE_META_INVALID_KEY', 3));
    await assert.rejects(store.set(2.5, Buffer.from('x')), assertMetaError('BRONZE_META_INVALID_KEY', 3));
    await assert.rejects(store.set(0, Buffer.from('x')), assertMetaError('BRONZE_META_RESERVED_KEY', 3, 'meta key 0 is reserved'));
    await assert.rejects(store.delete(256), assertMetaError('BRONZE_META_INVALID_KEY', 3, 'key must be a uint8'));
    await assert.rejects(store.delete(42), assertMetaError('BRONZE_META_KEY_NOT_FOUND', 5, 'meta key not found'));
    await assert.rejects(store.delete(0), assertMetaError('BRONZE_META_KEY_NOT_FOUND', 5));
    assert.deepEqual(store.entries(), []);
  });

  test('capacity at the boundary; a refused write changes nothing', async () => {
    const path = fresh();
    const store = await MetaStore.open(path, { create: true });
    await store.set(1, Buffer.alloc(100, 1));
    await store.set(2, Buffer.alloc(ADV_DATA_SIZE - 16 - 100, 2));
    assert.equal(store.usage, ADV_DATA_SIZE);
    const before = readFileSync(path);
    await assert.rejects(store.set(3, Buffer.alloc(0)), assertMetaError('BRONZE_META_FULL', 8, 'meta write failed'));
    await assert.rejects(store.set(1, Buffer.alloc(101)), assertMetaError('BRONZE_META_FULL', 8));
    assert.equal(store.has(3), false);
    assert.deepEqual(store.get(1), Buffer.alloc(100, 1));
    assert.deepEqual(readFileSync(path), before);
    // Replacing a value frees the old one's space first.
    await store.set(1, Buffer.alloc(100, 7));
    await store.delete(2);
    await store.set(3, Buffer.alloc(ADV_DATA_SIZE - 16 - 100, 3));
    const again = await MetaStore.open(path, { create: false });
    assert.equal(again.usage, ADV_DATA_SIZE);
    assert.deepEqual(again.get(1), Buffer.alloc(100, 7));
  });

  test('a failed write leaves the store as it was and does not wedge it', async () => {
    const dir = join(root, `case-${n++}`);
    const path = join(dir, 'meta');
    const changes: [number, string | undefined][] = [];
    const store = await MetaStore.open(path, { create: true, onChange: (t, v) => changes.push([t, v?.toString()]) });
    await store.set(5, Buffer.from('kept'));
    // A file where the directory was: the atomic write cannot create its temporary file.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    await assert.rejects(store.set(5, Buffer.from('lost')));
    await assert.rejects(store.delete(5));
    assert.equal(store.get(5)?.toString(), 'kept');
    assert.deepEqual(changes, [[5, 'kept']]);
    rmSync(dir);
    mkdirSync(dir);
    await store.set(6, Buffer.from('after'));
    const again = await MetaStore.open(path, { create: false });
    assert.deepEqual(
      again.entries().map(([t, v]) => [t, v.toString()]),
      [
        [5, 'kept'],
        [6, 'after'],
      ],
    );
  });

  test('concurrent sets all land, in call order', async () => {
    const path = fresh();
    const changes: [number, string | undefined][] = [];
    const store = await MetaStore.open(path, { create: true, onChange: (t, v) => changes.push([t, v?.toString()]) });
    const ops: Promise<void>[] = [];
    for (let t = 1; t <= 40; t++) ops.push(store.set(t, Buffer.from(`v${t}`)));
    ops.push(store.set(200, Buffer.from('a')), store.delete(200), store.set(200, Buffer.from('b')));
    await Promise.all(ops);
    await store.flush();
    assert.deepEqual(changes.slice(40), [
      [200, 'a'],
      [200, undefined],
      [200, 'b'],
    ]);
    assert.deepEqual(
      changes.slice(0, 40).map(([t]) => t),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const again = await MetaStore.open(path, { create: false });
    assert.equal(again.entries().length, 41);
    for (let t = 1; t <= 40; t++) assert.equal(again.get(t)?.toString(), `v${t}`);
    assert.equal(again.get(200)?.toString(), 'b');
  });

  test('a refused change in a burst does not stop the others', async () => {
    const store = await MetaStore.open(fresh(), { create: true });
    const results = await Promise.allSettled([store.set(1, Buffer.from('a')), store.delete(2), store.set(2, Buffer.from('b')), store.delete(1)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(
      store.entries().map(([t, v]) => [t, v.toString()]),
      [[2, 'b']],
    );
  });

  test('reads copy 2 when copy 1 is damaged; the next write repairs both', async () => {
    const path = fresh();
    mkdirSync(join(path, '..'), { recursive: true });
    const area = encodeMetaArea(new Map([[MetaTags.DownloadURLCode, Buffer.from('abc')]]));
    area[7] ^= 0x55;
    writeFileSync(path, area);
    const store = await MetaStore.open(path, { create: false });
    assert.equal(store.get(0x0b)?.toString(), 'abc');
    await store.set(0x0c, Buffer.from('x'));
    const disk = readFileSync(path);
    assert.deepEqual(disk.subarray(0, ADV_BLOCK_SIZE), disk.subarray(ADV_BLOCK_SIZE));
    assert.deepEqual(decodeADV(disk.subarray(0, ADV_BLOCK_SIZE)).get(0x0b), Buffer.from('abc'));
  });

  test('blank, short and corrupt files', async () => {
    const dir = join(root, `case-${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'zero'), Buffer.alloc(META_AREA_SIZE));
    assert.deepEqual((await MetaStore.open(join(dir, 'zero'), { create: false })).entries(), []);
    writeFileSync(join(dir, 'empty'), Buffer.alloc(0));
    assert.deepEqual((await MetaStore.open(join(dir, 'empty'), { create: false })).entries(), []);
    // Only the first copy present: still readable.
    writeFileSync(join(dir, 'one'), encodeADV(new Map([[3, Buffer.from('z')]])));
    assert.equal((await MetaStore.open(join(dir, 'one'), { create: false })).get(3)?.toString(), 'z');
    writeFileSync(join(dir, 'junk'), 'this is not META');
    await assert.rejects(MetaStore.open(join(dir, 'junk'), { create: true }), assertMetaError('BRONZE_META_CORRUPT', 15));
    assert.equal(readFileSync(join(dir, 'junk'), 'utf8'), 'this is not META', 'a corrupt area is not overwritten');
    await assert.rejects(MetaStore.open(dir, { create: true }), assertMetaError('BRONZE_META_UNSUPPORTED_PATH'));
    assert.equal(existsSync(join(dir, 'zero-tmp')), false);
  });

  test('values are copied in and out; a throwing listener does not fail the write', async () => {
    const path = fresh();
    const store = await MetaStore.open(path, {
      create: true,
      onChange: () => {
        throw new Error('listener failure');
      },
    });
    const input = Buffer.from('abc');
    await store.set(1, input);
    input[0] = 0x7a;
    const out = store.get(1);
    assert.ok(out);
    out[1] = 0x7a;
    assert.equal(store.get(1)?.toString(), 'abc');
    assert.equal((await MetaStore.open(path, { create: false })).get(1)?.toString(), 'abc');
  });
});
