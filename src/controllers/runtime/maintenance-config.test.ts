import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerTest } from '../ctest.js';
import { MaintenanceConfigController } from './maintenance-config.js';

describe('maintenance service config', () => {
  it('listens where the platform says and is reachable at the current node addresses', async () => {
    const t = ControllerTest.start([new MaintenanceConfigController(':50000')]);
    const ptr = { namespace: 'runtime', type: 'MaintenanceServiceConfigs.runtime.talos.dev', id: 'maintenance' };
    try {
      assert.deepEqual(await t.expect(ptr), { listenAddress: ':50000', reachableAddresses: [] });
      await t.create({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' }, { addresses: ['10.5.0.2/24', 'fd00::2/64'], sortAlgorithm: 'v1' });
      await t.expect<{ reachableAddresses: string[] }>(ptr, (s) => s.reachableAddresses.join() === '10.5.0.2,fd00::2');
    } finally {
      await t.stop();
    }
  });
});
