import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { comparePrefixes, NodeAddressController } from './node-address.js';

describe('node addresses', () => {
  it('order IPv4 first, then by address and prefix', () => {
    assert.deepEqual(['fd00::1/64', '10.0.0.9/8', '10.0.0.10/24', '10.0.0.9/24'].sort(comparePrefixes), ['10.0.0.9/8', '10.0.0.9/24', '10.0.0.10/24', 'fd00::1/64']);
  });

  it('follow the addresses of links that are up, keep every one seen, and keep the default while it lasts', async () => {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new NodeAddressController());
    rt.start();
    const link = (name: string, index: number, up: boolean) =>
      state.create(newResource({ namespace: 'network', type: 'LinkStatuses.net.talos.dev', id: name }, { index, type: 'ether', linkIndex: 0, flags: '', hardwareAddr: '', broadcastAddr: '', mtu: 1500, queueDisc: '', masterIndex: 0, operationalState: up ? 'up' : 'down', kind: '', slaveKind: '', linkState: up }));
    const addr = (linkName: string, linkIndex: number, address: string, scope = 'global') =>
      state.create(newResource({ namespace: 'network', type: 'AddressStatuses.net.talos.dev', id: `${linkName}/${address}` }, { address, local: address.split('/')[0], linkIndex, linkName, family: address.includes(':') ? 'inet6' : 'inet4', scope, flags: '', priority: 0 }));
    const is = (id: string, want: string[]) => state.watchFor({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id }, (r) => JSON.stringify((r?.spec as { addresses?: string[] } | undefined)?.addresses) === JSON.stringify(want));
    try {
      await link('eth0', 2, true);
      await link('eth1', 3, false);
      await addr('lo', 1, '127.0.0.1/8', 'host');
      await addr('eth0', 2, 'fe80::1/64', 'link');
      await addr('eth0', 2, '10.5.0.2/24');
      await addr('eth0', 2, 'fd00::2/64');
      await addr('eth1', 3, '192.168.1.2/24');
      await is('current', ['10.5.0.2/24', 'fd00::2/64']);
      await is('accumulative', ['10.5.0.2/24', '192.168.1.2/24', 'fd00::2/64']);
      await is('default', ['10.5.0.2/24']);
      await addr('eth0', 2, '10.5.0.1/24');
      await is('current', ['10.5.0.1/24', '10.5.0.2/24', 'fd00::2/64']);
      // the default stays while it is current
      await is('default', ['10.5.0.2/24']);
      await state.destroy({ namespace: 'network', type: 'AddressStatuses.net.talos.dev', id: 'eth0/10.5.0.2/24' });
      await is('current', ['10.5.0.1/24', 'fd00::2/64']);
      await is('default', ['10.5.0.1/24']);
      await is('accumulative', ['10.5.0.1/24', '10.5.0.2/24', '192.168.1.2/24', 'fd00::2/64']);
    } finally {
      await rt.stop();
    }
  });
});
