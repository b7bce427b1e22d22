import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGoDuration } from './decode.js';

describe('parseGoDuration', () => {
  it('reads Go durations in milliseconds, both micro signs included', () => {
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('-1.5s'), -1500);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('3us'), 0.003);
    assert.equal(parseGoDuration('3\u00b5s'), 0.003);
    assert.equal(parseGoDuration('3\u03bcs'), 0.003);
    assert.equal(parseGoDuration('2ns'), 2e-6);
    assert.equal(parseGoDuration('0'), 0);
  });

  it('refuses what Go refuses', () => {
    for (const bad of ['', '1', '1d', 'h', '1.5', '1m 2s', '3\u00c2s']) assert.equal(parseGoDuration(bad), undefined, bad);
  });
});
