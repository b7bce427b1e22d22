import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceDefinitionSpec } from '../api/gen/cosi/meta.js';
import { fillDefinition, isPlural, singular } from './definition.js';
import { isAlreadyExists } from './errors.js';
import { InMemoryState } from './inmem.js';
import { MetaNamespace, NamespaceType, Registry, ResourceDefinitionType } from './registry.js';
import { State } from './state.js';

/** The plural names of Talos v1.14's resource types (talos-facts §7.5). */
const talosNames = [
  'APIServerConfigs APIServiceConfigs AcquireConfigSpecs AcquireConfigStatuses AddressSpecs AddressStatuses',
  'AdjtimeStatuses AdmissionControlConfigs Affiliates ApiCertificates AuditPolicyConfigs AuthenticationConfigs',
  'AuthorizationConfigs BGPInstanceConfigs BGPPeerStatuses BaseRuntimeSpecConfigs BlockDevices BlockSymlinks',
  'BootIDs BootedEntries BootstrapManifestsConfigs CPUCores CPUStats CertSANs ConfigStatuses',
  'ContainerImageStatuses ContainerInstanceSpecs ContainerSpecs ControllerManagerConfigs CustomizationConfigs',
  'DNSResolveCaches DNSUpstreams DeviceConfigSpecs DevicesStatuses Diagnostics DiscoveredVolumes',
  'DiscoveredVolumesStatuses DiscoveryConfigs DiscoveryRefreshRequests DiscoveryRefreshStatuses Disks',
  'EncryptionSalts Endpoints Environments EtcFileSpecs EtcFileStatuses EtcdConfigs EtcdEncryptionConfigs',
  'EtcdMembers EtcdRootSecrets EtcdSecrets EtcdSpecs EthernetSpecs EthernetStatuses EventSinkConfigs',
  'ExtensionServiceConfigStatuses ExtensionServiceConfigs ExtensionStatuses ExtraManifestsConfigs',
  'FSScrubSchedules FSScrubStatuses HardwareAddresses HostDNSConfigs HostnameSpecs HostnameStatuses Identities',
  'ImageCacheConfigs ImageFactorySchematics ImageVerificationRules Infos KernelCmdlines KernelModuleSpecs',
  'KernelModuleStatuses KernelParamDefaultSpecs KernelParamSpecs KernelParamStatuses KmsgLogConfigs',
  'KubePrismConfigs KubePrismEndpoints KubePrismStatuses KubeSpanConfigs KubeSpanEndpoints KubeSpanIdentities',
  'KubeSpanPeerSpecs KubeSpanPeerStatuses KubeletConfigs KubeletKubeconfigs KubeletLifecycles KubeletSecrets',
  'KubeletSpecs KubeletStatuses KubernetesAccessConfigs KubernetesDynamicCerts KubernetesRootSecrets',
  'KubernetesSecrets LVMLogicalVolumeSpecs LVMLogicalVolumeStatuses LVMPhysicalVolumeSpecs',
  'LVMPhysicalVolumeStatuses LVMRefreshRequests LVMValidationErrors LVMVolumeGroupSpecs LVMVolumeGroupStatuses',
  'LinkAliasSpecs LinkRefreshes LinkSpecs LinkStatuses LoadedKernelModules MDArraySpecs MDArrayStatuses',
  'MDRefreshRequests MachineConfigs MachineResetSignals MachineStatuses MachineTypes MaintenanceRootSecrets',
  'MaintenanceServiceConfigs MaintenanceServiceRequests ManifestStatuses Manifests Members MemoryModules',
  'MemoryStats MetaKeys MetaLoads MountRequests MountStatuses NTPStatuses NetworkStatuses NfTablesChains',
  'NodeAddressFilters NodeAddressSortAlgorithms NodeAddresses NodeAnnotationSpecs NodeCordonedSpecs NodeIPConfigs',
  'NodeIPs NodeLabelSpecs NodeStatuses NodeTaintSpecs Nodenames OOMActions OSRootSecrets OperatorSpecs PCIDevices',
  'PCIDriverRebindConfigs PCIDriverRebindStatuses PCRStatuses PKIStatuses PlatformConfigs PlatformMetadatas',
  'ProbeSpecs ProbeStatuses Processors RebootRequests RegistryConfigs ResolverSpecs ResolverStatuses RouteSpecs',
  'RouteStatuses RoutingRuleSpecs RoutingRuleStatuses SBOMItems SchedulerConfigs SeccompProfiles SecretStatuses',
  'SecurityStates ServicePIDs Services SiderolinkConfigs SiderolinkStatuses SiderolinkTunnels StaticHosts',
  'StaticPodServerStatuses StaticPodStatuses StaticPods SwapStatuses SystemDisks SystemInformations',
  'TUFTrustedRoots TimeServerSpecs TimeServerStatuses TimeStatuses TrustdCertificates UnattendedInstallStatuses',
  'UniqueMachineTokens UserDiskConfigStatuses Versions VolumeConfigs VolumeLifecycles VolumeMountRequests',
  'VolumeMountStatuses VolumeStatuses VolumeTrimSchedules WatchdogTimerConfigs WatchdogTimerStatuses',
  'ZswapStatuses',
]
  .join(' ')
  .split(' ');

describe('resource definitions', () => {
  it('derive display types and aliases as COSI does', () => {
    const hs = fillDefinition({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' });
    assert.equal(hs.displayType, 'HostnameStatus');
    assert.deepEqual(hs.aliases, ['hostnamestatus', 'hs']);
    assert.deepEqual(hs.allAliases, ['hostnamestatuses', 'hostnamestatuses.net', 'hostnamestatuses.net.talos', 'hostnamestatus', 'hs']);
    const addr = fillDefinition({ type: 'AddressStatuses.net.talos.dev', defaultNamespace: 'network', aliases: ['address', 'addresses'] });
    assert.deepEqual(addr.aliases, ['address', 'addresses', 'addressstatus', 'as']);
    const mc = fillDefinition({ type: 'MachineConfigs.config.talos.dev', defaultNamespace: 'config' });
    assert.deepEqual(mc.aliases, ['machineconfig', 'mc', 'mcs']);
    const svc = fillDefinition({ type: 'Services.v1alpha1.talos.dev', defaultNamespace: 'runtime' });
    assert.deepEqual(svc.aliases, ['service']);
    const rd = fillDefinition({ type: 'ResourceDefinitions.meta.cosi.dev', defaultNamespace: 'meta', aliases: ['api-resources'] });
    assert.deepEqual(rd.allAliases, ['resourcedefinitions', 'resourcedefinitions.meta', 'resourcedefinitions.meta.cosi', 'api-resources', 'resourcedefinition', 'rd', 'rds']);
    const skip = fillDefinition({ type: 'Things.test.bronze.dev', defaultNamespace: 'x', aliases: ['t'], skipAutomaticAliases: true });
    assert.deepEqual([skip.aliases, skip.allAliases], [['t'], ['t']]);
  });

  it('name every Talos resource type as Talos does', () => {
    // the irregular ones; every other Talos type name just drops its final "s"
    const irregular: Record<string, string> = {
      AcquireConfigStatuses: 'AcquireConfigStatus',
      BootedEntries: 'BootedEntry',
      DNSResolveCaches: 'DNSResolveCach',
      HardwareAddresses: 'HardwareAddress',
      Identities: 'Identity',
      KubeSpanIdentities: 'KubeSpanIdentity',
      LinkRefreshes: 'LinkRefresh',
      NodeAddresses: 'NodeAddress',
      PlatformMetadatas: 'PlatformMetadata',
      Infos: 'Info',
      DevicesStatuses: 'DevicesStatus',
    };
    for (const name of talosNames) {
      assert.ok(isPlural(name), `${name} is plural`);
      const want = irregular[name] ?? (name.endsWith('Statuses') ? name.slice(0, -2) : name.slice(0, -1));
      assert.equal(singular(name), want, name);
    }
    for (const [p, s] of [
      ['Addresses', 'Address'], ['Aliases', 'Alias'], ['Patches', 'Patch'], ['Boxes', 'Box'], ['Leaves', 'Leaf'], ['Knives', 'Knife'],
      ['Cookies', 'Cookie'], ['Movies', 'Movie'], ['Children', 'Child'], ['People', 'Person'], ['Indices', 'Index'], ['Matrices', 'Matrix'],
      ['Series', 'Series'], ['Heroes', 'Hero'], ['Buses', 'Bus'], ['Policies', 'Policy'], ['Keys', 'Key'], ['Wolves', 'Wolf'],
    ] as const) {
      assert.equal(singular(p), s, p);
    }
    for (const single of ['Status', 'Address', 'Alias', 'Config', 'Gas', 'Analysis']) assert.equal(isPlural(single), false, single);
  });

  it('refuse malformed type names, naming what is wrong', () => {
    for (const [bad, why] of [
      ['hostnames.net.talos.dev', /CamelCase/],
      ['Hostname.net.talos.dev', /plural/],
      ['Statuss.net.talos.dev', /plural/],
      ['Hostnames', /missing suffix/],
      ['Hostnames.', /suffix is empty/],
      ['.net.talos.dev', /name is empty/],
      ['Hostnames.Net', /suffix doesn't match/],
      ['Hostnames.n.talos', /suffix doesn't match/],
      ['Host_names.net.talos.dev', /name doesn't match/],
    ] as const) {
      assert.throws(() => fillDefinition({ type: bad, defaultNamespace: 'x' }), (e: unknown) => (e as { code: string }).code === 'BRONZE_COSI_INVALID_DEFINITION' && why.test((e as Error).message), bad);
    }
  });

  it('are stored as meta resources, with YAML and protobuf forms, once each', async () => {
    const s = new State(new InMemoryState());
    const reg = new Registry(s);
    await reg.init();
    await reg.registerNamespace('network', 'Networking state.');
    await reg.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network', printColumns: [{ name: 'Hostname', jsonPath: '{.hostname}' }] });
    await reg.register({ type: 'OSRootSecrets.secrets.talos.dev', defaultNamespace: 'secrets', sensitive: true });
    const ns = await s.list({ namespace: MetaNamespace, type: NamespaceType });
    assert.deepEqual(ns.map((r) => r.metadata.id), ['meta', 'network']);
    assert.deepEqual(ns[1]!.spec, { description: 'Networking state.' });
    assert.equal(ns[1]!.metadata.owner, 'meta');
    const rds = await s.list({ namespace: MetaNamespace, type: ResourceDefinitionType });
    assert.deepEqual(rds.map((r) => r.metadata.id), ['hostnamestatuses.net.talos.dev', 'namespaces.meta.cosi.dev', 'osrootsecrets.secrets.talos.dev', 'resourcedefinitions.meta.cosi.dev']);
    const rd = await s.get({ namespace: MetaNamespace, type: ResourceDefinitionType, id: 'hostnamestatuses.net.talos.dev' });
    assert.equal(rd.metadata.owner, 'meta');
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
    const bytes = rdDef.toProto!(secret.spec);
    const decoded = ResourceDefinitionSpec.decode(bytes);
    assert.equal(decoded.resourceType, 'OSRootSecrets.secrets.talos.dev');
    assert.equal(decoded.displayType, 'OSRootSecret');
    assert.equal(decoded.sensitivity, 1);
    assert.deepEqual(rdDef.fromProto!(bytes), secret.spec, 'the protobuf form decodes back to the YAML-keyed spec');
    const nsDef = reg.definition(NamespaceType)!;
    assert.deepEqual(nsDef.fromProto!(nsDef.toProto!(ns[1]!.spec)), { description: 'Networking state.' });
    assert.equal(reg.definition('hostnamestatuses.NET.talos.dev')?.displayType, 'HostnameStatus');
    await assert.rejects(reg.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' }), /already registered/);
    await assert.rejects(reg.registerNamespace('network', 'again'), /already registered/);
    // a definition created in the state by someone else counts as registered
    await assert.rejects(
      new Registry(s).register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' }),
      (e: unknown) => /already registered/.test((e as Error).message) && isAlreadyExists((e as Error).cause),
    );
  });
});
