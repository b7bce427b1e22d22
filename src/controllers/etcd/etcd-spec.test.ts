import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerTest } from '../ctest.js';
import { HostnameID, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressCurrentID, NodeAddressRoutedID, NodeAddressType } from '../../resources/network/node-address.js';
import { EtcdConfigID, EtcdConfigType } from '../../resources/etcd/config.js';
import { EtcdSpecID, type EtcdSpecSpec, EtcdSpecType } from '../../resources/etcd/spec.js';
import { EtcdSpecController, filterAddresses } from './etcd-spec.js';

describe('etcd.SpecController', () => {
  it('filters addresses by subnets, `!` excluding', () => {
    const addrs = ['10.0.0.5', '192.168.1.2', 'fd00::5'];
    assert.deepEqual(filterAddresses(addrs, ['0.0.0.0/0', '::/0']), addrs);
    assert.deepEqual(filterAddresses(addrs, ['10.0.0.0/8']), ['10.0.0.5']);
    assert.deepEqual(filterAddresses(addrs, ['0.0.0.0/0', '!192.168.0.0/16']), ['10.0.0.5']);
    assert.deepEqual(filterAddresses(addrs, ['!10.0.0.0/8']), ['192.168.1.2', 'fd00::5']);
    assert.throws(() => filterAddresses(addrs, ['nonsense/8']), /invalid subnet/);
  });

  for (const tc of [
    { name: 'metal: advertises the first routed address, listens everywhere', opts: {}, peer: ['0.0.0.0'], client: ['0.0.0.0'] },
    { name: 'process platform: listens on its advertised address only', opts: { listenOnAdvertised: true }, peer: ['10.0.0.5'], client: ['10.0.0.5'] },
  ]) {
    it(tc.name, async () => {
      const t = ControllerTest.start([new EtcdSpecController(tc.opts)]);
      try {
        const spec = { namespace: 'etcd', type: EtcdSpecType, id: EtcdSpecID };
        await t.create({ namespace: 'etcd', type: EtcdConfigType, id: EtcdConfigID }, { advertiseExcludeSubnets: [], listenExcludeSubnets: [], image: 'etcd', extraArgs: { foo: { values: ['bar'] } } });
        await t.create({ namespace: 'network', type: HostnameStatusType, id: HostnameID }, { hostname: 'cp-1', domainname: '' });
        await t.create({ namespace: 'network', type: NodeAddressType, id: NodeAddressCurrentID }, { addresses: ['10.0.0.5/24', '192.168.1.2/24'], sortAlgorithm: 'v1' });
        await t.create({ namespace: 'network', type: NodeAddressType, id: NodeAddressRoutedID }, { addresses: ['10.0.0.5/24', '192.168.1.2/24'], sortAlgorithm: 'v1' });
        const s = await t.expect<EtcdSpecSpec>(spec);
        assert.deepEqual(s, { name: 'cp-1', advertisedAddresses: ['10.0.0.5'], listenPeerAddresses: tc.peer, listenClientAddresses: tc.client, image: 'etcd', extraArgs: { foo: { values: ['bar'] } } });
        // without the config (not a control plane any more) the spec goes
        await t.destroy({ namespace: 'etcd', type: EtcdConfigType, id: EtcdConfigID });
        await t.expectGone(spec);
      } finally {
        await t.stop();
      }
    });
  }
});
