import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Data } from '../api/gen/common/common.js';
import { HostnameResponse, VersionResponse } from '../api/gen/machine/machine.js';
import { labelStreamMessage, labelUnaryResponse, readVarint, streamErrorMessage, unaryErrorResponse, varint, WireFormatError } from './wire.js';

describe('fan-out wire editing', () => {
  it('labels a unary response without decoding it', () => {
    const resp = HostnameResponse.encode(HostnameResponse.fromPartial({ messages: [{ hostname: 'cp-1' }] })).finish();
    const labelled = labelUnaryResponse(resp, '10.5.0.2');
    const decoded = HostnameResponse.decode(labelled);
    assert.equal(decoded.messages.length, 1);
    assert.equal(decoded.messages[0]!.hostname, 'cp-1');
    assert.equal(decoded.messages[0]!.metadata!.hostname, '10.5.0.2');
    assert.equal(decoded.messages[0]!.metadata!.error, '');
  });

  it('concatenated labelled responses decode as one response with an element per node', () => {
    const one = (h: string) => HostnameResponse.encode(HostnameResponse.fromPartial({ messages: [{ hostname: h }] })).finish();
    const merged = Buffer.concat([
      labelUnaryResponse(one('a'), 'n1'),
      unaryErrorResponse('n2', { code: 14, message: 'connection refused' }),
      labelUnaryResponse(one('c'), 'n3'),
    ]);
    const d = HostnameResponse.decode(merged);
    assert.deepEqual(
      d.messages.map((m) => [m.metadata?.hostname, m.hostname, m.metadata?.error, m.metadata?.status?.code]),
      [
        ['n1', 'a', '', undefined],
        ['n2', '', 'connection refused', 14],
        ['n3', 'c', '', undefined],
      ],
    );
  });

  it('labels stream elements and error elements', () => {
    const d = Data.decode(labelStreamMessage(Data.encode(Data.fromPartial({ bytes: Buffer.from('log line') })).finish(), 'w1'));
    assert.equal(Buffer.from(d.bytes).toString(), 'log line');
    assert.equal(d.metadata!.hostname, 'w1');
    const e = Data.decode(streamErrorMessage('w2', { code: 4, message: 'deadline exceeded' }));
    assert.equal(e.metadata!.error, 'deadline exceeded');
    assert.equal(e.bytes.length, 0);
  });

  it('refuses responses that are not exactly one messages element', () => {
    assert.throws(() => labelUnaryResponse(Buffer.alloc(0), 'n'), WireFormatError);
    assert.throws(() => labelUnaryResponse(Buffer.from('0a00 0a00'.replace(/ /g, ''), 'hex'), 'n'), /more than one/);
    assert.throws(() => labelUnaryResponse(Buffer.from('1200', 'hex'), 'n'), /no messages element/);
  });

  it('keeps every field of any Version response (property)', () => {
    const str = fc.string({ maxLength: 300 });
    fc.assert(
      fc.property(str, str, str, fc.boolean(), fc.string({ minLength: 1, maxLength: 255 }), (tag, sha, os, rbac, host) => {
        const msg = VersionResponse.fromPartial({ messages: [{ version: { tag, sha, os }, platform: { name: 'metal', mode: 'metal' }, features: { rbac } }] });
        const out = VersionResponse.decode(labelUnaryResponse(VersionResponse.encode(msg).finish(), host));
        const want = structuredClone(msg);
        want.messages[0]!.metadata = { hostname: host, error: '', status: undefined };
        assert.deepEqual(out, want);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips varints', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
        const b = varint(n);
        assert.deepEqual(readVarint(b, 0), [n, b.length]);
      }),
    );
  });
});
