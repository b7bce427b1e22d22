import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceDefinitionSpec } from '../api/gen/cosi/meta.js';
import { fillDefinition, singular } from './definition.js';
import { InMemoryState } from './inmem.js';
import { MetaNamespace, NamespaceType, Registry, ResourceDefinitionType } from './registry.js';
import { State } from './state.js';

describe('resource definitions', () => {
  it('derive display types and aliases as COSI does', () => {
    const hs = fillDefinition({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' });
    assert.equal(hs.displayType, 'HostnameStatus');
    assert.deepEqual(hs.aliases, ['hostnamestatus', 'hs']);
    assert.deepEqual(hs.allAliases, ['hostnamestatuses', 'hostnamestatuses.net', 'hostnamestatuses.net.talos', 'hostnamestatus', 'hs']);
    const addr = fillDefinition({ type: 'AddressStatuses.net.talos.dev', defaultNamespace: 'network', aliases: ['address', 'addresses'] });
    assert.deepEqual(addr.aliases, ['address', 'addresses', 'addressstatus', 'as']);
    const ms = fillDefinition({ type: 'MachineConfigs.config.talos.dev', defaultNamespace: 'config' });
    assert.deepEqual(ms.aliases, ['machineconfig', 'mc', 'mcs']);
    const svc = fillDefinition({ type: 'Services.v1alpha1.talos.dev', defaultNamespace: 'runtime' });
    assert.deepEqual(svc.aliases, ['service']);
    for (const [p, s] of [
      ['HostnameStatuses', 'HostnameStatus'],
      ['Identities', 'Identity'],
      ['Infos', 'Info'],
      ['Addresses', 'Address'],
      ['NodeAddresses', 'NodeAddress'],
      ['KernelParamSpecs', 'KernelParamSpec'],
      ['Members', 'Member'],
      ['ResourceDefinitions', 'ResourceDefinition'],
    ]) {
      assert.equal(singular(p!), s);
    }
  });

  it('refuse malformed type names', () => {
    for (const bad of ['hostnames.net.talos.dev', 'Hostname.net.talos.dev', 'Hostnames', 'Hostnames.', 'Hostnames.Net']) {
      assert.throws(() => fillDefinition({ type: bad, defaultNamespace: 'x' }), { code: 'BRONZE_COSI_INVALID' }, bad);
    }
  });

  it('are stored as meta resources with YAML and protobuf forms', async () => {
    const s = new State(new InMemoryState());
    const reg = new Registry(s);
    await reg.init();
    await reg.registerNamespace('network', 'Networking state.');
    await reg.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network', printColumns: [{ name: 'Hostname', jsonPath: '{.hostname}' }] });
    await reg.register({ type: 'OSRootSecrets.secrets.talos.dev', defaultNamespace: 'secrets', sensitive: true });
    const ns = await s.list({ namespace: MetaNamespace, type: NamespaceType });
    assert.deepEqual(ns.map((r) => r.metadata.id), ['meta', 'network']);
    assert.equal(ns[1]!.metadata.owner, 'meta');
    const rd = await s.get({ namespace: MetaNamespace, type: ResourceDefinitionType, id: 'hostnamestatuses.net.talos.dev' });
    assert.deepEqual(rd.spec, {
      type: 'HostnameStatuses.net.talos.dev',
      displayType: 'HostnameStatus',
      defaultNamespace: 'network',
      aliases: ['hostnamestatus', 'hs'],
      allAliases: ['hostnamestatuses', 'hostnamestatuses.net', 'hostnamestatuses.net.talos', 'hostnamestatus', 'hs'],
      printColumns: [{ name: 'Hostname', jsonPath: '{.hostname}' }],
    });
    const secret = await s.get({ namespace: MetaNamespace, type: ResourceDefinitionType, id: 'osrootsecrets.secrets.talos.dev' });
    assert.equal((secret.spec as { sensitivity?: string }).sensitivity, 'sensitive');
    const rdDef = reg.definition(ResourceDefinitionType)!;
    const decoded = ResourceDefinitionSpec.decode(rdDef.toProto!(secret.spec));
    assert.equal(decoded.resourceType, 'OSRootSecrets.secrets.talos.dev');
    assert.equal(decoded.sensitivity, 1);
    assert.equal(reg.definition('hostnamestatuses.net.talos.dev')?.displayType, 'HostnameStatus');
    await assert.rejects(reg.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' }), /already registered/);
  });
});
