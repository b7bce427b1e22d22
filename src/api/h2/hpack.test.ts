import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeHeaders, type HeaderField, HeaderListTooLarge, HpackDecoder, HpackEncoder, HpackError, huffmanDecode, huffmanEncode, STATIC_TABLE, tableSizeUpdate } from './hpack.js';

/** The continuation bytes of an HPACK integer past its prefix (RFC 7541 §5.1). */
function intTail(rest: number): Buffer {
  const out: number[] = [];
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 64 });

describe('hpack', () => {
  it('Huffman-codes a known string as RFC 7541 C.4.1 shows it', () => {
    assert.equal(huffmanEncode('www.example.com').toString('hex'), 'f1e3c2e5f23a6ba0ab90f4ff');
    const b = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex');
    assert.equal(huffmanDecode(b, 0, b.length), 'www.example.com');
  });

  it('Huffman decoding inverts encoding for any byte string', () => {
    fc.assert(
      fc.property(latin1, (s) => {
        const b = huffmanEncode(s);
        assert.equal(huffmanDecode(b, 0, b.length), s);
      }),
    );
  });

  it('refuses Huffman padding that is not a prefix of EOS', () => {
    const b = Buffer.from([0x00]); // "0" (00000) then three zero bits
    assert.throws(() => huffmanDecode(b, 0, 1), HpackError);
  });

  it('decodes what it encodes, static matches indexed and other fields literal', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(':path', ':status', 'content-type', 'x-a', 'nodes', 'grpc-status'), latin1), { maxLength: 12 }), (fields) => {
        const d = new HpackDecoder();
        assert.deepEqual(d.decode(encodeHeaders(fields as HeaderField[])), fields);
      }),
    );
    assert.deepEqual([...encodeHeaders([[':method', 'POST']])], [0x83]);
    assert.deepEqual([...encodeHeaders([[':status', '200']])], [0x88]);
    // a size update may open a block
    assert.deepEqual(new HpackDecoder().decode(Buffer.concat([tableSizeUpdate(100), encodeHeaders([['a', 'b']])])), [['a', 'b']]);
    assert.deepEqual([...tableSizeUpdate(4096)], [0x3f, 0xe1, 0x1f]);
  });

  it('follows the peer encoder through its dynamic table, evictions and size updates included', () => {
    const d = new HpackDecoder(4096);
    // literal with incremental indexing, new name: custom-key: custom-header (RFC 7541 C.2.1)
    const first = Buffer.concat([Buffer.from([0x40, 10]), Buffer.from('custom-key'), Buffer.from([13]), Buffer.from('custom-header')]);
    assert.deepEqual(d.decode(first), [['custom-key', 'custom-header']]);
    // index 62 is now that entry
    assert.deepEqual(d.decode(Buffer.from([0xbe])), [['custom-key', 'custom-header']]);
    // a size update to 0 empties the table
    assert.throws(() => d.decode(Buffer.from([0x20, 0xbe])), /out of range/);
    // a size update above what was announced is an error
    assert.throws(() => new HpackDecoder(100).decode(Buffer.from([0x3f, 0xe1, 0x1f])), /above the announced/);
    assert.equal(STATIC_TABLE[61]![0], 'www-authenticate');
  });

  it('refuses a header list over the limit and malformed blocks', () => {
    const big = encodeHeaders([['x', 'y'.repeat(2000)]]);
    assert.throws(() => new HpackDecoder().decode(big, 1000), HeaderListTooLarge);
    // a block over the limit still adds its indexed field to the table: the next block may refer to it
    const d = new HpackDecoder();
    const value = 'v'.repeat(2000);
    const literal = Buffer.concat([Buffer.from([0x40, 0x01, 0x6e, 0x7f]), intTail(value.length - 127), Buffer.from(value)]);
    assert.throws(() => d.decode(literal, 1000), (e: unknown) => e instanceof HeaderListTooLarge && e.size === 1 + 2000 + 32 && e.limit === 1000);
    assert.deepEqual(d.decode(Buffer.from([0xbe]), 4096), [['n', value]]);
    assert.throws(() => new HpackDecoder().decode(Buffer.from([0x80])), /index 0/);
    assert.throws(() => new HpackDecoder().decode(Buffer.from([0x00, 0x05, 0x61])), /truncated/);
  });

  it('a connection encoder indexes repeated fields: the second block of a call is one byte per field', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const call: HeaderField[] = [
      [':method', 'POST'],
      [':scheme', 'https'],
      [':path', '/machine.MachineService/Version'],
      [':authority', '127.0.0.1:50000'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['grpc-timeout', '29999m'],
      ['x-talos-role', 'os:admin'],
    ];
    const first = e.encode(call);
    assert.deepEqual(d.decode(first), call);
    const again = call.map(([n, v]): HeaderField => [n, n === 'grpc-timeout' ? '29998m' : v]);
    const second = e.encode(again);
    assert.deepEqual(d.decode(second), again);
    // every field one index byte but the deadline, which never goes into the table: a literal, name and value
    assert.equal(second.length, call.length - 1 + 2 + 'grpc-timeout'.length + 1 + '29998m'.length);
    assert.deepEqual([...second.subarray(0, 2)], [0x83, 0x87]);
  });

  it('whatever the blocks and table size changes, the decoder reads back exactly what the encoder was given', () => {
    const name = fc.constantFrom(':path', ':status', 'content-type', 'x-a', 'x-b', 'nodes', 'grpc-status', 'grpc-timeout', 'grpc-message');
    const value = fc.oneof(fc.constantFrom('', 'a', 'bb', '200', 'application/grpc'), latin1, fc.string({ maxLength: 3000 }).map((x) => Array.from(x, (c) => (c.charCodeAt(0) > 0xff ? '?' : c)).join('')));
    const step = fc.oneof(
      { weight: 5, arbitrary: fc.array(fc.tuple(name, value), { maxLength: 10 }).map((fields) => ({ fields: fields as HeaderField[] })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }).map((size) => ({ size })) },
      // the previous header list again, as the same array or a copy (a gateway sends one list on many streams)
      { weight: 3, arbitrary: fc.boolean().map((copy) => ({ repeat: copy })) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 0, max: 9 }), (steps, headroom) => {
        const e = new HpackEncoder();
        const d = new HpackDecoder(4096);
        let previous: HeaderField[] = [];
        for (const s of steps) {
          if ('size' in s) {
            e.setMaxSize(s.size);
            continue;
          }
          const fields = 'fields' in s ? s.fields : s.repeat ? previous.map(([n, v]) => [n, v] as HeaderField) : previous;
          const block = e.encode(fields, headroom);
          assert.equal(block.length >= headroom, true);
          assert.deepEqual(d.decode(block.subarray(headroom), 1 << 24), fields);
          previous = fields;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same header list again, with the table unchanged, is the same block', () => {
    const e = new HpackEncoder();
    const fields: HeaderField[] = [[':method', 'POST'], [':path', '/machine.MachineService/Version'], ['grpc-timeout', '29998m'], ['talos-role', 'os:admin']];
    const first = e.encode(fields);
    const second = e.encode(fields, 9);
    // the first block indexed the new fields (except grpc-timeout); from the second on the block is the same
    assert.notDeepEqual([...first], [...second.subarray(9)]);
    const third = e.encode(fields.map(([n, v]) => [n, v]));
    assert.deepEqual([...third], [...second.subarray(9)]);
    // another value for one field: a new entry, then that block repeats
    const other: HeaderField[] = [...fields.slice(0, 3), ['talos-role', 'os:reader']];
    const fourth = e.encode(other);
    assert.notDeepEqual([...fourth], [...third]);
    const d = new HpackDecoder(4096);
    for (const b of [first, second.subarray(9), third, fourth, e.encode(other)]) d.decode(b);
    assert.deepEqual(d.decode(e.encode(fields)), fields);
    // a list changed in place after it was encoded is encoded as it now is
    fields[3]![1] = 'os:operator';
    assert.deepEqual(d.decode(e.encode(fields)), fields);
  });

  it('a smaller table from the peer is announced at the start of the next block, the smallest first', () => {
    const e = new HpackEncoder();
    e.encode([['x-a', 'one']]);
    e.setMaxSize(0);
    e.setMaxSize(100);
    const b = e.encode([['x-a', 'one']]);
    // size 0, then 100 (31 + 69), then the field as a literal with a new name: the entry went with the table
    assert.deepEqual([...b.subarray(0, 3)], [0x20, 0x3f, 69]);
    const d = new HpackDecoder(4096);
    assert.deepEqual(d.decode(b), [['x-a', 'one']]);
    // above 4096 the table stays at 4096
    e.setMaxSize(65_536);
    assert.deepEqual([...e.encode([]).subarray(0, 3)], [...tableSizeUpdate(4096)]);
  });
});

