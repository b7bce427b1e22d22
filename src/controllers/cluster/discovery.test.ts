import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeAffiliate } from '../../resources/cluster/affiliate.js';
import { nodesOfMembers } from '../../resources/cluster/member.js';
import { discoveryConfigOf } from './discovery-config.js';
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
