import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Condition, waitForAll } from './condition.js';

const pendingCondition = (text: string): Condition => ({ describe: () => text, wait: () => new Promise(() => {}) });

describe('waitForAll', () => {
  it('lists what is still awaited, leaving out a condition with nothing to describe', () => {
    assert.equal(waitForAll(pendingCondition('service "cri" to be "up"'), pendingCondition(''), pendingCondition('time sync')).describe(), 'service "cri" to be "up", time sync');
    assert.equal(waitForAll(pendingCondition('service "cri" to be "up"'), waitForAll()).describe(), 'service "cri" to be "up"');
  });

  it('describes nothing once every condition holds', async () => {
    const c = waitForAll({ describe: () => 'network', wait: async () => {} }, undefined);
    await c.wait(AbortSignal.timeout(1000));
    assert.equal(c.describe(), '');
  });
});
