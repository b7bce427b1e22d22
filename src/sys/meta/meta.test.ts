import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ADV_CAPACITY, ADV_SIZE, decodeADV, decodeMeta, encodeADV, encodeMeta } from './adv.js';
import { MetaStore, metaKeyID } from './store.js';

describe('ADV blocks', () => {
  it('lay out magic, records, terminator, checksum and magic as Talos does', () => {
    const b = encodeADV(new Map([[0x0a, Buffer.from('hi')]]));
    assert.equal(b.length, ADV_SIZE);
    assert.equal(b.readUInt32BE(0), 0x5a4b3c2d);
    assert.deepEqual([...b.subarray(4, 14)], [0, 0, 0, 0x0a, 0, 0, 0, 2, 0x68, 0x69]);
    assert.equal(b.readUInt32BE(14), 0, 'tag 0 ends the records');
    assert.equal(b.readUInt32BE(ADV_SIZE - 4), 0xa5b4c3d2);
    const zeroed = Buffer.from(b);
    zeroed.fill(0, ADV_SIZE - 36, ADV_SIZE - 4);
    assert.deepEqual(b.subarray(ADV_SIZE - 36, ADV_SIZE - 4), createHash('sha256').update(zeroed).digest());
  });

  it('round-trip any tags and values that fit', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.integer({ min: 1, max: 255 }).map(String), fc.uint8Array({ maxLength: 300 }), { maxKeys: 40 }), (d) => {
        const values = new Map(Object.entries(d).map(([k, v]) => [Number(k), Buffer.from(v)]));
        assert.deepEqual(decodeMeta(encodeMeta(values)), values);
      }),
      { numRuns: 200 },
    );
  });

  it('fall back to the second copy, and refuse when both are broken', () => {
    const area = encodeMeta(new Map([[7, Buffer.from('image:v1')]]));
    area[100] ^= 0xff;
    assert.equal(decodeMeta(area).get(7)?.toString(), 'image:v1');
    area[ADV_SIZE + 100] ^= 0xff;
    assert.throws(() => decodeMeta(area), { code: 'BRONZE_ADV_CHECKSUM' });
    assert.deepEqual(decodeMeta(Buffer.alloc(2 * ADV_SIZE)), new Map());
    assert.throws(() => decodeADV(Buffer.alloc(ADV_SIZE, 1)), { code: 'BRONZE_ADV_MAGIC' });
  });

  it('hold exactly the capacity, not a byte more', () => {
    const fits = new Map([[1, Buffer.alloc(ADV_CAPACITY - 8)]]);
    assert.equal(decodeADV(encodeADV(fits)).get(1)!.length, ADV_CAPACITY - 8);
    assert.throws(() => encodeADV(new Map([[1, Buffer.alloc(ADV_CAPACITY - 7)]])), { code: 'BRONZE_ADV_FULL' });
  });
});

describe('the META store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bronze-meta-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps values across reopening, with Talos’s errors', async () => {
    const path = join(dir, 'META');
    const seen: string[] = [];
    const s = await MetaStore.open(path, { onChange: (tag, v) => seen.push(`${metaKeyID(tag)}=${v?.toString() ?? '-'}`) });
    await s.set(0x0a, Buffer.from('{"addresses":[]}'));
    await s.set(0x0c, Buffer.from('user'));
    await s.delete(0x0c);
    assert.deepEqual(seen, ['0x0a={"addresses":[]}', '0x0c=user', '0x0c=-']);
    assert.equal(readFileSync(path).length, 2 * ADV_SIZE);
    const again = await MetaStore.open(path);
    assert.deepEqual(again.entries().map(([t, v]) => [t, v.toString()]), [[0x0a, '{"addresses":[]}']]);
    await assert.rejects(again.delete(0x0c), { grpcCode: 5, message: 'meta key not found' });
    await assert.rejects(again.set(256, Buffer.from('x')), { grpcCode: 3, message: 'key must be a uint8' });
    await assert.rejects(again.set(0x0d, Buffer.alloc(ADV_CAPACITY)), { grpcCode: 8, message: 'meta write failed' });
    assert.equal(again.get(0x0d), undefined);
  });

  it('applies concurrent writes one after another, none lost', async () => {
    const s = await MetaStore.open(join(dir, 'META2'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.set(i + 1, Buffer.from(`v${i}`))));
    const again = await MetaStore.open(join(dir, 'META2'));
    assert.equal(again.entries().length, 20);
    assert.equal(again.get(20)?.toString(), 'v19');
  });

  it('refuses a corrupt META file instead of starting empty', async () => {
    writeFileSync(join(dir, 'BAD'), Buffer.alloc(2 * ADV_SIZE, 7));
    await assert.rejects(MetaStore.open(join(dir, 'BAD')), { code: 'BRONZE_ADV_MAGIC' });
  });
});
