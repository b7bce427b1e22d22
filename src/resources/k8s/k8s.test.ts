import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaticPodServerStatusSpec as PBStaticPodServer, StaticPodSpec as PBStaticPod, KubePrismConfigSpec as PBPrismConfig, KubePrismStatusesSpec as PBPrismStatuses, KubeletConfigSpec as PBConfig, KubeletSpecSpec as PBSpec, NodeIPConfigSpec as PBNodeIPConfig, NodeIPSpec as PBNodeIP, NodenameSpec as PBNodename } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { fillDefinition } from '../../cosi/definition.js';
import { k8sDefinitions, staticPodDefinition, staticPodServerStatusDefinition, kubePrismConfigDefinition, kubePrismStatusesDefinition, kubeletConfigDefinition, type KubeletConfigSpec, kubeletSpecDefinition, type KubeletSpecSpec, nodeIPConfigDefinition, nodeIPDefinition, nodenameDefinition } from './index.js';

const mount = { destination: '/var/local', type: 'bind', source: '/var/local', options: ['rbind', 'rw'] };

describe('k8s resource definitions', () => {
  it('have Talos names, namespaces, sensitivity and aliases', () => {
    const filled = k8sDefinitions.map((d) => fillDefinition(d as never));
    assert.deepEqual(
      filled.map((d) => [d.type, d.displayType, d.defaultNamespace, d.sensitive ?? false, d.aliases]),
      [
        ['Endpoints.kubernetes.talos.dev', 'Endpoint', 'controlplane', false, ['endpoint']],
        ['KubeletConfigs.kubernetes.talos.dev', 'KubeletConfig', 'k8s', true, ['kubeletconfig', 'kc', 'kcs']],
        ['KubeletSpecs.kubernetes.talos.dev', 'KubeletSpec', 'k8s', true, ['kubeletspec', 'ks']],
        ['KubePrismConfigs.kubernetes.talos.dev', 'KubePrismConfig', 'k8s', false, ['kubeprismconfig', 'kpc', 'kpcs']],
        ['KubePrismEndpoints.kubernetes.talos.dev', 'KubePrismEndpoint', 'k8s', false, ['kubeprismendpoint', 'kpe', 'kpes']],
        ['KubePrismStatuses.kubernetes.talos.dev', 'KubePrismStatus', 'k8s', false, ['kubeprismstatus', 'kps']],
        ['NodeIPConfigs.kubernetes.talos.dev', 'NodeIPConfig', 'k8s', false, ['nodeipconfig', 'nipc', 'nipcs']],
        ['NodeIPs.kubernetes.talos.dev', 'NodeIP', 'k8s', false, ['nodeip', 'nip', 'nips']],
        ['Nodenames.kubernetes.talos.dev', 'Nodename', 'k8s', false, ['nodename']],
        ['StaticPods.kubernetes.talos.dev', 'StaticPod', 'k8s', false, ['staticpod', 'sp', 'sps']],
        ['StaticPodServerStatuses.kubernetes.talos.dev', 'StaticPodServerStatus', 'k8s', false, ['staticpodserverstatus', 'spss']],
      ],
    );
    assert.deepEqual(filled[8]!.printColumns, [{ name: 'Nodename', jsonPath: '{.nodename}' }]);
  });

  it('KubePrism: Talos field numbers (the port an int64) and print columns', () => {
    const bytes = kubePrismConfigDefinition.toProto!({ host: '127.0.0.1', port: 7445, endpoints: [{ host: 'localhost', port: 6443 }] });
    const pb = PBPrismConfig.decode(bytes);
    assert.deepEqual([pb.host, pb.port, pb.endpoints], ['127.0.0.1', '7445', [{ host: 'localhost', port: 6443 }]]);
    // host (1, bytes), port (2, varint), endpoints (3, bytes)
    assert.deepEqual([...bytes.subarray(0, 2)], [(1 << 3) | 2, 9]);
    assert.deepEqual([...bytes.subarray(11, 14)], [2 << 3, 0x95, 0x3a]);
    assert.deepEqual(PBPrismStatuses.decode(kubePrismStatusesDefinition.toProto!({ host: '127.0.0.1:7445', healthy: true })), { host: '127.0.0.1:7445', healthy: true });
    assert.deepEqual(fillDefinition(kubePrismStatusesDefinition as never).printColumns, [
      { name: 'HOST', jsonPath: '{.host}' },
      { name: 'HEALTHY', jsonPath: '{.healthy}' },
    ]);
  });

  it('StaticPod and StaticPodServerStatus: the pod as a Struct (field 1), the URL (field 1)', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } };
    const bytes = staticPodDefinition.toProto!({ pod });
    assert.equal(bytes[0], (1 << 3) | 2);
    assert.deepEqual(PBStaticPod.decode(bytes).pod, pod);
    assert.deepEqual(PBStaticPodServer.decode(staticPodServerStatusDefinition.toProto!({ url: 'http://127.0.0.1:41234' })), { url: 'http://127.0.0.1:41234' });
  });

  it('KubeletSpec: Talos field numbers and YAML keys, empty optional fields left out', () => {
    const s: KubeletSpecSpec = {
      image: 'ghcr.io/siderolabs/kubelet:v1.36.3',
      args: ['--cert-dir=/var/lib/kubelet/pki', '--hostname-override=node-1'],
      extraMounts: [mount],
      expectedNodename: 'node-1',
      config: { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', port: 10250, clusterDNS: ['10.96.0.10'], authentication: { anonymous: { enabled: false } } },
    };
    const pb = PBSpec.decode(kubeletSpecDefinition.toProto!(s));
    assert.equal(pb.image, s.image);
    assert.deepEqual(pb.args, s.args);
    assert.deepEqual(pb.extraMounts.map((m) => [m.destination, m.type, m.source, m.options]), [['/var/local', 'bind', '/var/local', ['rbind', 'rw']]]);
    assert.equal(pb.expectedNodename, 'node-1');
    assert.deepEqual(pb.config, s.config);
    assert.equal(pb.credentialProviderConfig, undefined);
    // field 1 (image) is the first on the wire, field 2 (args) next
    const bytes = kubeletSpecDefinition.toProto!(s);
    assert.equal(bytes[0], (1 << 3) | 2);
    assert.deepEqual(Object.keys(kubeletSpecDefinition.toYAML!(s) as object), ['image', 'args', 'extraMounts', 'expectedNodename', 'config']);
    assert.deepEqual((kubeletSpecDefinition.toYAML!(s) as { extraMounts: unknown[] }).extraMounts[0], { ...mount, uidmappings: [], gidmappings: [] });
    assert.deepEqual(kubeletSpecDefinition.toYAML!({ ...s, args: [], extraMounts: [], expectedNodename: '' }), { image: s.image, config: s.config });
  });

  it('KubeletConfig: Talos field numbers and YAML keys', () => {
    const s: KubeletConfigSpec = {
      image: 'kubelet:v1',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      extraArgs: { 'feature-gates': { values: ['A=true'] } },
      extraMounts: [],
      extraConfig: {},
      cloudProviderExternal: false,
      defaultRuntimeSeccompEnabled: true,
      skipNodeRegistration: false,
      staticPodListURL: '',
      disableManifestsDirectory: false,
      enableFSQuotaMonitoring: true,
      allowSchedulingOnControlPlane: false,
    };
    const pb = PBConfig.decode(kubeletConfigDefinition.toProto!(s));
    assert.deepEqual([pb.image, pb.clusterDns, pb.clusterDomain, pb.extraArgs, pb.defaultRuntimeSeccompEnabled, pb.enableFsQuotaMonitoring], ['kubelet:v1', ['10.96.0.10'], 'cluster.local', { 'feature-gates': { values: ['A=true'] } }, true, true]);
    assert.deepEqual(Object.keys(kubeletConfigDefinition.toYAML!(s) as object), [
      'image',
      'clusterDNS',
      'clusterDomain',
      'extraArgs',
      'cloudProviderExternal',
      'defaultRuntimeSeccompEnabled',
      'skipNodeRegistration',
      'staticPodListURL',
      'disableManifestsDirectory',
      'enableFSQuotaMonitoring',
      'allowSchedulingOnControlPlane',
    ]);
  });

  it('NodeIP, NodeIPConfig and Nodename as Talos encodes them', () => {
    const ip = PBNodeIP.decode(nodeIPDefinition.toProto!({ addresses: ['10.5.0.2', 'fd00::2'] }));
    assert.deepEqual(ip.addresses.map((a) => [...a.ip]), [[10, 5, 0, 2], [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]]);
    const cfg = { validSubnets: ['10.0.0.0/8', '!10.1.0.0/16'], excludeSubnets: ['10.244.0.0/16'] };
    assert.deepEqual(PBNodeIPConfig.decode(nodeIPConfigDefinition.toProto!(cfg)), cfg);
    assert.deepEqual(nodeIPConfigDefinition.toYAML!({ validSubnets: [], excludeSubnets: [] }), { excludeSubnets: [] });
    assert.deepEqual(PBNodename.decode(nodenameDefinition.toProto!({ nodename: 'n1', hostnameVersion: '3', skipNodeRegistration: true })), { nodename: 'n1', hostnameVersion: '3', skipNodeRegistration: true });
  });
});
