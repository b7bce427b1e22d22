import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMemberID, parseMemberID } from './member.js';

describe('etcd member ids', () => {
  it('print as 16 hex digits and parse back, with or without leading zeros', () => {
    assert.equal(formatMemberID('1772866900991476596'), '189a7d0daba50374');
    assert.equal(formatMemberID(1n), '0000000000000001');
    assert.equal(parseMemberID('189a7d0daba50374'), 1772866900991476596n);
    assert.equal(parseMemberID('1'), 1n);
    assert.equal(parseMemberID('FFFFFFFFFFFFFFFF'), 2n ** 64n - 1n);
  });

  it('refuse what is not hex', () => {
    for (const bad of ['', 'xyz', '0x12', '12345678901234567']) assert.throws(() => parseMemberID(bad), /invalid etcd member id/);
  });
});
