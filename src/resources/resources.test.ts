import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineConfigSpec as PBMachineConfig, MachineTypeSpec as PBMachineType } from '../api/gen/resource/config/config.js';
import { AddressStatusSpec as PBAddress, NodeAddressSpec as PBNodeAddress } from '../api/gen/resource/definitions/network/network.js';
import { MachineStatusSpec as PBMachineStatus } from '../api/gen/resource/definitions/runtime/runtime.js';
import { APICertsSpec as PBAPICerts, CertSANSpec as PBCertSAN } from '../api/gen/resource/definitions/secrets/secrets.js';
import { upstreamAvailable, upstreamFile, upstreamFiles } from '../config/testing.js';
import { specToProto } from '../cosi/api/convert.js';
import { InMemoryState } from '../cosi/inmem.js';
import { Registry } from '../cosi/registry.js';
import { State } from '../cosi/state.js';
import { machineConfigDefinition } from './config/machine-config.js';
import { machineTypeDefinition } from './config/machine-type.js';
import { definitions, registerAll } from './index.js';
import { addressStatusDefinition } from './network/address-status.js';
import { nodeAddressDefinition } from './network/node-address.js';
import { machineStatusDefinition } from './runtime/machine-status.js';
import { apiCertificatesDefinition } from './secrets/api-certificates.js';
import { certSANDefinition } from './secrets/cert-sans.js';

describe('Talos resource definitions', () => {
  it('register with their namespaces and talosctl aliases', async () => {
    const reg = new Registry(new State(new InMemoryState()));
    await registerAll(reg);
    assert.equal(reg.definitions().length, definitions.length + 2);
    const aliasOf = (alias: string) => reg.definitions().find((d) => d.allAliases.includes(alias))?.type;
    assert.equal(aliasOf('hostnamestatus'), 'HostnameStatuses.net.talos.dev');
    assert.equal(aliasOf('hostname'), 'HostnameStatuses.net.talos.dev');
    assert.equal(aliasOf('addresses'), 'AddressStatuses.net.talos.dev');
    assert.equal(aliasOf('resolvers'), 'ResolverStatuses.net.talos.dev');
    assert.equal(aliasOf('timeservers'), 'TimeServerStatuses.net.talos.dev');
    assert.equal(aliasOf('timestatus'), 'TimeStatuses.v1alpha1.talos.dev');
    assert.equal(aliasOf('nodeaddresses'), 'NodeAddresses.net.talos.dev');
    assert.equal(aliasOf('machinestatus'), 'MachineStatuses.runtime.talos.dev');
    assert.equal(aliasOf('services'), 'Services.v1alpha1.talos.dev');
    assert.equal(aliasOf('machineconfig'), 'MachineConfigs.config.talos.dev');
    assert.equal(aliasOf('routes'), 'RouteStatuses.net.talos.dev');
    assert.equal(aliasOf('links'), 'LinkStatuses.net.talos.dev');
    assert.equal(aliasOf('apicertificates'), 'ApiCertificates.secrets.talos.dev');
    assert.equal(aliasOf('etcfilestatus'), 'EtcFileStatuses.files.talos.dev');
    assert.ok(reg.hasNamespace('network-config'));
    assert.equal(reg.definition('OSRootSecrets.secrets.talos.dev')?.sensitive, true);
  });

  it('encode specs as Talos protobuf messages', () => {
    const a = PBAddress.decode(
      addressStatusDefinition.toProto!({
        address: '172.20.0.2/24',
        local: '172.20.0.2',
        broadcast: '172.20.0.255',
        linkIndex: 3,
        linkName: 'eth0',
        family: 'inet4',
        scope: 'global',
        flags: 'permanent',
        priority: 1024,
      }),
    );
    assert.deepEqual([...a.address!.ip], [172, 20, 0, 2]);
    assert.equal(a.address!.prefixLength, 24);
    assert.deepEqual([...a.broadcast!.ip], [172, 20, 0, 255]);
    assert.equal(a.family, 2);
    assert.equal(a.scope, 0);
    assert.equal(a.flags, 128);
    assert.equal(a.linkName, 'eth0');
    const n = PBNodeAddress.decode(nodeAddressDefinition.toProto!({ addresses: ['fd00::5/64'], sortAlgorithm: 'v2' }));
    assert.equal(n.addresses[0]!.ip.length, 16);
    assert.equal(n.addresses[0]!.ip[0], 0xfd);
    assert.equal(n.addresses[0]!.ip[15], 5);
    assert.equal(n.sortAlgorithm, 1);
    const m = PBMachineStatus.decode(machineStatusDefinition.toProto!({ stage: 'shutting down', status: { ready: false, unmetConditions: [{ name: 'time', reason: 'not synced' }] } }));
    assert.equal(m.stage, 6);
    assert.deepEqual(m.status!.unmetConditions, [{ name: 'time', reason: 'not synced' }]);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const c = PBAPICerts.decode(apiCertificatesDefinition.toProto!({ server: { crt: Buffer.from(pem).toString('base64'), key: '' }, acceptedCAs: [{ crt: Buffer.from(pem).toString('base64') }] }));
    assert.equal(Buffer.from(c.server!.crt).toString(), pem);
    assert.equal(Buffer.from(c.acceptedCAs[0]!.crt).toString(), pem);
    const s = PBCertSAN.decode(certSANDefinition.toProto!({ ips: ['10.5.0.2', '127.0.0.1'], dnsNames: ['cp-1'], fqdn: 'cp-1' }));
    assert.equal(s.iPs.length, 2);
    assert.equal(s.fqdn, 'cp-1');
  });

  it('give machine configs and types the YAML form talosctl expects', () => {
    const text = 'version: v1alpha1\nmachine:\n  type: controlplane\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n';
    const mc = specToProto({ text }, { ...machineConfigDefinition, displayType: '', aliases: [], allAliases: [], printColumns: [] });
    assert.equal(mc.yamlSpec.startsWith('|'), true, 'a block string scalar');
    assert.equal(Buffer.from(PBMachineConfig.decode(mc.protoSpec).yamlMarshalled).toString(), text);
    const mt = specToProto({ type: 'controlplane' }, { ...machineTypeDefinition, displayType: '', aliases: [], allAliases: [], printColumns: [] });
    assert.equal(mt.yamlSpec, 'controlplane\n');
    assert.equal(PBMachineType.decode(mt.protoSpec).machineType, 2);
  });
});

describe('resource type names against Talos’s', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, () => {
  it('names every resource type as Talos does at the compatibility tag', () => {
    const talos = new Set<string>();
    for (const file of upstreamFiles('pkg/machinery/resources').filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) {
      for (const [, type] of upstreamFile(file)!.matchAll(/Type = resource\.Type\("([^"]+)"\)/g)) talos.add(type!);
    }
    assert.ok(talos.size > 100, `${talos.size} types read`);
    assert.deepEqual(
      definitions.map((d) => d.type).filter((t) => !talos.has(t)),
      [],
    );
  });
});
