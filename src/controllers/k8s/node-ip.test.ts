import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { NodeIPConfigType } from '../../resources/k8s/node-ip-config.js';
import { type NodeIPSpec, NodeIPType } from '../../resources/k8s/node-ip.js';
import { NodeAddressRoutedID, NodeAddressType } from '../../resources/network/node-address.js';
import { ControllerTest } from '../ctest.js';
import { NodeIPController, pickNodeIPs } from './node-ip.js';

describe('k8s.NodeIPController', () => {
  it('picks one address per family inside the valid subnets and outside the excluded ones', () => {
    const addrs = ['192.168.1.5/24', '10.0.0.2/8', 'fd00::1/64', '10.0.0.3/8', 'fd00::2/64'];
    assert.deepEqual(pickNodeIPs(addrs, ['0.0.0.0/0']), { ips: ['192.168.1.5'], skipped: ['10.0.0.2', '10.0.0.3'] });
    assert.deepEqual(pickNodeIPs(addrs, []).ips, ['192.168.1.5', 'fd00::1']);
    assert.deepEqual(pickNodeIPs(addrs, ['::/0', '0.0.0.0/0']).ips, ['192.168.1.5', 'fd00::1']);
    assert.deepEqual(pickNodeIPs(addrs, ['10.0.0.0/8']).ips, ['10.0.0.2']);
    assert.deepEqual(pickNodeIPs(addrs, ['0.0.0.0/0', '!192.168.0.0/16']).ips, ['10.0.0.2']);
    assert.deepEqual(pickNodeIPs(addrs, ['0.0.0.0/0'], ['192.168.0.0/16', '10.0.0.2/32']).ips, ['10.0.0.3']);
    assert.deepEqual(pickNodeIPs(addrs, ['172.16.0.0/12']).ips, []);
    assert.deepEqual(pickNodeIPs(['fd00::1/64', '10.0.0.2/8'], []).ips, ['fd00::1', '10.0.0.2']);
  });

  it('follows the routed addresses and the config, keeping the last pick while none fits', async () => {
    const t = ControllerTest.start([new NodeIPController()]);
    try {
      const cfg = { namespace: 'k8s', type: NodeIPConfigType, id: KubeletID };
      const routed = { namespace: 'network', type: NodeAddressType, id: NodeAddressRoutedID };
      const ip = { namespace: 'k8s', type: NodeIPType, id: KubeletID };
      await t.create(cfg, { validSubnets: ['0.0.0.0/0'], excludeSubnets: ['10.244.0.0/16', '10.96.0.0/12'] });
      await t.create(routed, { addresses: ['10.244.0.1/24', '10.5.0.2/24'], sortAlgorithm: 'v1' });
      assert.deepEqual(await t.expect<NodeIPSpec>(ip), { addresses: ['10.5.0.2'] });
      await t.update<{ addresses: string[] }>(routed, (s) => ({ ...s, addresses: ['10.5.0.3/24'] }));
      await t.expect<NodeIPSpec>(ip, (s) => s.addresses[0] === '10.5.0.3');
      // nothing fits: the last pick stays, until something fits again
      await t.update<{ validSubnets: string[] }>(cfg, (s) => ({ ...s, validSubnets: ['192.168.0.0/16'] }));
      await t.update<{ addresses: string[] }>(routed, (s) => ({ ...s, addresses: ['10.5.0.4/24', '192.168.7.7/24'] }));
      assert.deepEqual(await t.expect<NodeIPSpec>(ip, (s) => s.addresses[0] !== '10.5.0.3'), { addresses: ['192.168.7.7'] });
    } finally {
      await t.stop();
    }
  });
});
