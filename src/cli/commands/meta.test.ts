import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMetaKey } from './meta.js';

describe('meta keys', () => {
  it('read as talosctl reads them: 8-bit, in decimal, hex, octal or binary', () => {
    assert.equal(parseMetaKey('10'), 10);
    assert.equal(parseMetaKey('0x0b'), 11);
    assert.equal(parseMetaKey('0o17'), 15);
    assert.equal(parseMetaKey('017'), 15);
    assert.equal(parseMetaKey('0b101'), 5);
    assert.equal(parseMetaKey('0'), 0);
    assert.equal(parseMetaKey('255'), 255);
    assert.throws(() => parseMetaKey('256'), /strconv\.ParseUint: parsing "256": value out of range/);
    assert.throws(() => parseMetaKey('ten'), /strconv\.ParseUint: parsing "ten": invalid syntax/);
    assert.throws(() => parseMetaKey('-1'), /invalid syntax/);
  });
});
