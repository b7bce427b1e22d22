import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import { newResource } from '../../cosi/resource.js';
import { KernelCmdline } from '../../platform/cmdline.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { AddressSpecType } from '../../resources/network/address-spec.js';
import { LinkSpecType } from '../../resources/network/link-spec.js';
import { RouteSpecType } from '../../resources/network/route-spec.js';
import { ControllerTest } from '../ctest.js';
import { AddressConfigController } from './address-config.js';
import { LayeredMergeController } from './layered-merge.js';
import { LinkConfigController } from './link-config.js';
import { cmdlineAddress } from './network-config.js';
import { RouteConfigController } from './route-config.js';
import { OperatorConfigController } from './operator-config.js';
import { OperatorSpecType } from '../../resources/network/operator-spec.js';

describe('network config → merge → specs', async () => {
  const bundle = await generateBundle({ clusterName: 'net', endpoint: 'https://10.5.0.2:6443' });
  const config = bundle.worker
    .toString()
    .replace(
      /^machine:\n/m,
      `machine:\n    network:\n        interfaces:\n            - interface: eth0\n              mtu: 1400\n              addresses: [10.0.0.5/24]\n            - interface: eth1\n              addresses: [192.168.9.2/24]\n              routes:\n                - network: 172.16.0.0/12\n                  gateway: 192.168.9.1\n                  metric: 100\n            - interface: eth3\n              ignore: true\n`,
    )
    .concat('---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth2\nmtu: 9000\naddresses:\n    - address: fd00::2/64\n');

  it('turns ip= netmasks into prefixes', () => {
    assert.equal(cmdlineAddress({ client: '10.0.0.5', netmask: '255.255.255.0', dns: [], ntp: [] }), '10.0.0.5/24');
    assert.equal(cmdlineAddress({ client: '10.0.0.5', netmask: '20', dns: [], ntp: [] }), '10.0.0.5/20');
    assert.equal(cmdlineAddress({ client: '10.0.0.5', dns: [], ntp: [] }), '10.0.0.5/32');
    assert.equal(cmdlineAddress({ dns: [], ntp: [] }), undefined);
  });

  it('layers defaults, the kernel command line and the machine config; the config wins and leaving it restores the rest', async () => {
    const cmdline = new KernelCmdline('ip=10.0.0.5::10.0.0.1:255.255.255.0:node:eth0:off');
    const t = ControllerTest.start([
      new LinkConfigController(cmdline),
      new AddressConfigController(cmdline),
      new RouteConfigController(cmdline),
      new LayeredMergeController('network.LinkMergeController', LinkSpecType),
      new LayeredMergeController('network.AddressMergeController', AddressSpecType),
      new LayeredMergeController('network.RouteMergeController', RouteSpecType),
    ]);
    const state = t.state;
    const ids = (type: string, want: string[]) => t.expectIDs({ namespace: 'network', type }, want);
    const spec = async (type: string, id: string) => (await state.get({ namespace: 'network', type, id })).spec as Record<string, unknown>;
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    try {
      await ids(LinkSpecType, ['eth0', 'lo']);
      await ids(AddressSpecType, ['eth0/10.0.0.5/24', 'lo/127.0.0.1/8', 'lo/::1/128']);
      await ids(RouteSpecType, ['inet4/10.0.0.1//1024']);
      assert.equal((await spec(LinkSpecType, 'eth0')).layer, 'cmdline');
      assert.deepEqual(await spec(RouteSpecType, 'inet4/10.0.0.1//1024'), { family: 'inet4', dst: '', src: '10.0.0.5', gateway: '10.0.0.1', outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', flags: '', protocol: 'static', layer: 'cmdline' });

      await state.create(newResource(cfgPtr, { text: config }));
      await ids(LinkSpecType, ['eth0', 'eth1', 'eth2', 'lo']);
      await ids(AddressSpecType, ['eth0/10.0.0.5/24', 'eth1/192.168.9.2/24', 'eth2/fd00::2/64', 'lo/127.0.0.1/8', 'lo/::1/128']);
      await ids(RouteSpecType, ['inet4/10.0.0.1//1024', 'inet4/192.168.9.1/172.16.0.0/12/100']);
      assert.deepEqual(await spec(LinkSpecType, 'eth0'), { name: 'eth0', logical: false, up: true, mtu: 1400, kind: '', type: 'ether', parentName: '', layer: 'configuration' });
      assert.equal((await spec(LinkSpecType, 'eth2')).mtu, 9000);
      assert.equal((await spec(AddressSpecType, 'eth2/fd00::2/64')).family, 'inet6');
      assert.equal((await spec(AddressSpecType, 'eth0/10.0.0.5/24')).layer, 'configuration');

      await state.destroy(cfgPtr);
      await ids(LinkSpecType, ['eth0', 'lo']);
      assert.equal((await spec(LinkSpecType, 'eth0')).layer, 'cmdline');
      await ids(RouteSpecType, ['inet4/10.0.0.1//1024']);
    } finally {
      await t.stop();
    }
  });

  it('without link settings, brings up every physical link that is not ignored and runs DHCP on it', async () => {
    const cmdline = new KernelCmdline('talos.network.interface.ignore=eth1');
    const t = ControllerTest.start([
      new LinkConfigController(cmdline),
      new OperatorConfigController(cmdline),
      new LayeredMergeController('network.LinkMergeController', LinkSpecType),
      new LayeredMergeController('network.OperatorMergeController', OperatorSpecType),
    ]);
    const link = (name: string, index: number, kind = '') =>
      t.create({ namespace: 'network', type: 'LinkStatuses.net.talos.dev', id: name }, { index, type: 'ether', linkIndex: 0, flags: 'UP', hardwareAddr: '', broadcastAddr: '', mtu: 1500, queueDisc: '', masterIndex: 0, operationalState: 'up', kind, slaveKind: '', linkState: true });
    try {
      await link('eth0', 2);
      await link('eth1', 3);
      await link('veth9', 4, 'veth');
      await t.expectIDs({ namespace: 'network', type: LinkSpecType }, ['eth0', 'lo']);
      await t.expectIDs({ namespace: 'network', type: OperatorSpecType }, ['dhcp4/eth0']);
      // a config that configures links turns the defaults off
      await t.create({ namespace: 'config', type: MachineConfigType, id: ActiveID }, { text: config });
      await t.expectIDs({ namespace: 'network', type: OperatorSpecType }, []);
      await t.expectIDs({ namespace: 'network', type: LinkSpecType }, ['eth0', 'eth1', 'eth2', 'lo']);
    } finally {
      await t.stop();
    }
  });
});
