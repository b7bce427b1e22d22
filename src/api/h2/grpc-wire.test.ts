import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeGrpcMessage, encodeGrpcMessage, FrameReader, frame, frameAll, grpcTimeout, parseGrpcTimeout, statusOf } from './grpc-wire.js';

describe('gRPC over HTTP/2 at the byte level', () => {
  it('frames parts as the one message they make', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (parts) => {
        assert.deepEqual(frameAll(parts), frame(Buffer.concat(parts)));
      }),
    );
  });

  it('reads framed messages back however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (messages, cuts) => {
        const wire = Buffer.concat(messages.map((m) => frame(m)));
        const got: Buffer[] = [];
        const r = new FrameReader(1024, (m, compressed) => {
          assert.equal(compressed, false);
          got.push(Buffer.from(m));
        });
        let off = 0;
        for (let i = 0; off < wire.length; i++) {
          const n = cuts[i % cuts.length]!;
          assert.equal(r.push(wire.subarray(off, off + n)), undefined);
          off += n;
        }
        assert.deepEqual(got.map((b) => b.toString('hex')), messages.map((m) => Buffer.from(m).toString('hex')));
        assert.equal(r.count, messages.length);
        assert.equal(r.atBoundary, true);
      }),
    );
  });

  it('reports a message announced over the limit from its prefix alone', () => {
    const r = new FrameReader(10);
    const prefix = Buffer.from([0, 0, 0, 0, 11]);
    assert.equal(r.push(prefix.subarray(0, 3)), undefined);
    assert.equal(r.push(prefix.subarray(3)), 11);
  });

  it('percent-encodes grpc-message and reads statuses and timeouts', () => {
    assert.equal(encodeGrpcMessage('not authorized'), 'not authorized');
    assert.equal(encodeGrpcMessage('50% – done\n'), '50%25 %E2%80%93 done%0A');
    assert.equal(decodeGrpcMessage(encodeGrpcMessage('50% – done\n')), '50% – done\n');
    assert.deepEqual(statusOf({ 'grpc-status': '7', 'grpc-message': 'not%20authorized' }), { code: 7, details: 'not authorized' });
    assert.equal(statusOf({ 'content-type': 'application/grpc' }), undefined);
    assert.equal(parseGrpcTimeout('1500m'), 1500);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('3M'), 180_000);
    assert.equal(parseGrpcTimeout('bogus'), undefined);
    assert.equal(grpcTimeout(1234.2), '1235m');
  });
});
