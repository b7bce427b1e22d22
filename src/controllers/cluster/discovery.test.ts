import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AffiliateSpec, AffiliateType, mergeAffiliate, RawNamespace } from '../../resources/cluster/affiliate.js';
import { DiscoveryConfigID, DiscoveryConfigType } from '../../resources/cluster/discovery-config.js';
import { IdentityType, LocalIdentity } from '../../resources/cluster/identity.js';
import { type MemberSpec, MemberType, nodesOfMembers } from '../../resources/cluster/member.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { ControlPlaneDiscoveredEndpointsID, type EndpointSpec, EndpointType } from '../../resources/k8s/endpoint.js';
import { NodenameID, NodenameType } from '../../resources/k8s/nodename.js';
import { HostnameID, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressRoutedID, NodeAddressType } from '../../resources/network/node-address.js';
import { buildInfo } from '../../version.js';
import { ControllerTest } from '../ctest.js';
import { AffiliateMergeController } from './affiliate-merge.js';
import { discoveryConfigOf } from './discovery-config.js';
import { EndpointController, compareIPs } from './endpoint.js';
import { LocalAffiliateController } from './local-affiliate.js';
import { MemberController } from './member.js';
import { affiliateFromPb, affiliateToPb } from './discovery-service.js';

const secret = Buffer.alloc(32, 7).toString('base64');

test('discovery is off unless enabled; registries are on unless disabled; the endpoint becomes host:port', () => {
  assert.deepEqual(discoveryConfigOf({ id: 'c', secret }), {
    discoveryEnabled: false,
    registryKubernetesEnabled: false,
    registryServiceEnabled: false,
    serviceEndpoint: '',
    serviceEndpointInsecure: false,
    serviceEncryptionKey: '',
    serviceClusterID: '',
  });
  assert.deepEqual(discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true } }), {
    discoveryEnabled: true,
    registryKubernetesEnabled: true,
    registryServiceEnabled: true,
    serviceEndpoint: 'discovery.talos.dev:443',
    serviceEndpointInsecure: false,
    serviceEncryptionKey: secret,
    serviceClusterID: 'c',
  });
  const local = discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true, registries: { kubernetes: { disabled: true }, service: { endpoint: 'http://127.65.0.1:3000/' } } } });
  assert.ok(!('error' in local));
  assert.equal(local.registryKubernetesEnabled, false);
  assert.equal(local.serviceEndpoint, '127.65.0.1:3000');
  assert.equal(local.serviceEndpointInsecure, true);
  assert.equal((discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true, registries: { service: { endpoint: 'http://[fd00::1]/' } } } }) as { serviceEndpoint: string }).serviceEndpoint, '[fd00::1]:80');
  const off = discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true, registries: { service: { disabled: true } } } });
  assert.ok(!('error' in off) && !off.registryServiceEnabled && off.serviceEndpoint === '');
});

test('bad discovery settings are named by their config path', () => {
  assert.deepEqual(discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true, registries: { service: { endpoint: 'not a url' } } } }), {
    error: '.cluster.discovery.registries.service.endpoint: "not a url" is not a URL',
  });
  assert.deepEqual(discoveryConfigOf({ id: 'c', secret: 'c2hvcnQ=', discovery: { enabled: true } }), { error: '.cluster.secret: 5 bytes once decoded; the discovery service needs a 32-byte key' });
  assert.deepEqual(discoveryConfigOf({ secret, discovery: { enabled: true } }), { error: '.cluster.id: required by the discovery service registry' });
});

test('affiliates round-trip through the discovery service format', () => {
  const spec = {
    nodeId: 'abc',
    addresses: ['127.65.0.2', 'fd00::2'],
    hostname: 'cp-1.example.org',
    nodename: 'cp-1',
    operatingSystem: 'Bronze (v0.1.0)',
    machineType: 'controlplane' as const,
    controlPlane: { port: 6443 },
  };
  const pb = affiliateToPb(spec);
  assert.equal(pb.addresses[1]!.length, 16);
  assert.equal(pb.machineType, 'controlplane');
  assert.deepEqual(affiliateFromPb(pb), spec);
  assert.equal(affiliateFromPb({ ...pb, machineType: 'toaster', addresses: [Buffer.alloc(3)] }).machineType, 'unknown');
  assert.deepEqual(affiliateFromPb({ ...pb, addresses: [Buffer.alloc(3)] }).addresses, []);
});

test('merging raw affiliates adds addresses and lets set fields win; members give the nodes by role', () => {
  const a = { nodeId: 'n', addresses: ['10.0.0.1'], hostname: 'h', nodename: '', operatingSystem: 'Bronze (v1)', machineType: 'unknown' as const };
  const b = { nodeId: 'n', addresses: ['10.0.0.1', '10.0.0.2'], hostname: '', nodename: 'node-1', operatingSystem: '', machineType: 'worker' as const };
  assert.deepEqual(mergeAffiliate(a, b), { nodeId: 'n', addresses: ['10.0.0.1', '10.0.0.2'], hostname: 'h', nodename: 'node-1', operatingSystem: 'Bronze (v1)', machineType: 'worker' });
  const m = (addr: string, machineType: 'init' | 'controlplane' | 'worker') => ({ nodeId: addr, addresses: [addr], hostname: addr, machineType, operatingSystem: '' });
  assert.deepEqual(nodesOfMembers([m('1.1.1.1', 'worker'), m('2.2.2.2', 'controlplane'), m('3.3.3.3', 'init'), { ...m('4.4.4.4', 'worker'), addresses: [] }]), {
    controlPlanes: ['2.2.2.2', '3.3.3.3'],
    workers: ['1.1.1.1'],
  });
});

test('the local affiliate, raw affiliates from the service, members and the discovered control plane endpoints follow each other', async () => {
  const t = ControllerTest.start([new LocalAffiliateController(), new AffiliateMergeController(), new MemberController(), new EndpointController()]);
  try {
    await t.create({ namespace: 'config', type: DiscoveryConfigType, id: DiscoveryConfigID }, discoveryConfigOf({ id: 'c', secret, discovery: { enabled: true } }));
    await t.create({ namespace: 'cluster', type: IdentityType, id: LocalIdentity }, { nodeId: 'self' });
    await t.create({ namespace: 'network', type: HostnameStatusType, id: HostnameID }, { hostname: 'cp-1', domainname: 'example.org' });
    await t.create({ namespace: 'k8s', type: NodenameType, id: NodenameID }, { nodename: 'cp-1', hostnameVersion: '1', skipNodeRegistration: false });
    await t.create({ namespace: 'network', type: NodeAddressType, id: NodeAddressRoutedID }, { addresses: ['10.5.0.3/24'], sortAlgorithm: 'v1' });
    await t.create({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { type: 'controlplane' });
    const self = await t.expect<AffiliateSpec>({ namespace: 'cluster', type: AffiliateType, id: 'self' });
    assert.deepEqual(self, { nodeId: 'self', addresses: ['10.5.0.3'], hostname: 'cp-1.example.org', nodename: 'cp-1', operatingSystem: `Bronze (${buildInfo().tag})`, machineType: 'controlplane', controlPlane: { port: 6443 } });
    // another control plane and a worker, as the discovery service reports them
    const raw = (id: string, spec: Partial<AffiliateSpec>) => t.create({ namespace: RawNamespace, type: AffiliateType, id: `service/${id}` }, { nodeId: id, addresses: [], hostname: id, nodename: id, operatingSystem: '', machineType: 'worker', ...spec });
    await raw('other-cp', { addresses: ['10.5.0.2'], machineType: 'controlplane', controlPlane: { port: 6443 } });
    await raw('worker', { addresses: ['10.5.0.9', 'fd00::9'] });
    await t.expectIDs({ namespace: 'cluster', type: MemberType }, ['cp-1', 'other-cp', 'worker']);
    assert.deepEqual((await t.expect<MemberSpec>({ namespace: 'cluster', type: MemberType, id: 'worker' })).addresses, ['10.5.0.9', 'fd00::9']);
    const ep = { namespace: 'controlplane', type: EndpointType, id: ControlPlaneDiscoveredEndpointsID };
    assert.deepEqual(await t.expect<EndpointSpec>(ep, (s) => s.addresses.length === 2), { addresses: ['10.5.0.2', '10.5.0.3'], hosts: [] });
    // a node the service forgets stops being a member
    await t.destroy({ namespace: RawNamespace, type: AffiliateType, id: 'service/other-cp' });
    await t.expectIDs({ namespace: 'cluster', type: MemberType }, ['cp-1', 'worker']);
    await t.expect<EndpointSpec>(ep, (s) => s.addresses.join() === '10.5.0.3');
    assert.ok(compareIPs('10.0.0.10', '10.0.0.9') > 0 && compareIPs('fd00::1', '255.255.255.255') > 0);
  } finally {
    await t.stop();
  }
});
