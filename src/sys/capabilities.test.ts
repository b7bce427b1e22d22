import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAP_SYS_RESOURCE, effectiveCapabilities, hasCapability, reachableOOMScoreAdj } from './capabilities.js';

const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('capabilities', () => {
  it('are read from CapEff', () => {
    assert.equal(effectiveCapabilities(status('000001fffeffffff')), 0x1fffeffffffn);
    // everything but CAP_SYS_RESOURCE (bit 24), as a container may grant
    assert.equal(hasCapability(CAP_SYS_RESOURCE, status('000001fffeffffff')), false);
    assert.equal(hasCapability(CAP_SYS_RESOURCE, status('000001ffffffffff')), true);
    assert.equal(hasCapability(0, status('000001fffeffffff')), true);
    assert.equal(hasCapability(CAP_SYS_RESOURCE, 'Name:\tx\n'), false);
    assert.throws(() => effectiveCapabilities('Name:\tx\n'), /no CapEff line/);
  });

  it('oom_score_adj goes no lower than this process’s own without CAP_SYS_RESOURCE', () => {
    assert.equal(reachableOOMScoreAdj(-998, { canLower: true, own: 0 }), -998);
    assert.equal(reachableOOMScoreAdj(-998, { canLower: false, own: 0 }), 0);
    assert.equal(reachableOOMScoreAdj(-998, { canLower: false, own: -500 }), -500);
    assert.equal(reachableOOMScoreAdj(500, { canLower: false, own: 0 }), 500);
  });
});
