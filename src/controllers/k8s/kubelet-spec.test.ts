import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { type KubeletConfigSpec, KubeletConfigType, KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type KubeletSpecSpec, KubeletSpecType } from '../../resources/k8s/kubelet-spec.js';
import { NodeIPType } from '../../resources/k8s/node-ip.js';
import { NodenameID, type NodenameSpec, NodenameType } from '../../resources/k8s/nodename.js';
import { HostnameID, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { ControllerTest } from '../ctest.js';
import { kubeletConfiguration, KubeletSpecController, kubeletSpecFrom, kubeletVersion } from './kubelet-spec.js';
import { NodenameController } from './nodename.js';

const paths = { etcKubernetes: '/etc/kubernetes', varLibKubelet: '/var/lib/kubelet', criAddress: '/run/containerd/containerd.sock' };

const base: KubeletConfigSpec = {
  image: 'ghcr.io/siderolabs/kubelet:v1.36.3',
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  extraArgs: {},
  extraMounts: [],
  extraConfig: {},
  cloudProviderExternal: false,
  defaultRuntimeSeccompEnabled: false,
  skipNodeRegistration: false,
  staticPodListURL: '',
  disableManifestsDirectory: false,
  enableFSQuotaMonitoring: false,
  allowSchedulingOnControlPlane: false,
};
const node = { machineType: 'worker' as const, nodename: 'node-1', nodeIPs: ['10.5.0.2'] };

describe('k8s.KubeletSpecController', () => {
  it('builds the flags: the node files, name and IP, then extraArgs over them', () => {
    const s = kubeletSpecFrom({ ...base, extraArgs: { feature_gates: { values: ['A=true'] }, 'node-labels': { values: ['a=b'] } } }, node, paths, 'metal')!;
    assert.deepEqual(s.args, [
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubeconfig',
      '--cert-dir=/var/lib/kubelet/pki',
      '--config=/etc/kubernetes/kubelet.yaml',
      '--feature-gates=A=true',
      '--hostname-override=node-1',
      '--kubeconfig=/etc/kubernetes/kubeconfig-kubelet',
      '--node-ip=10.5.0.2',
      '--node-labels=a=b',
    ]);
    assert.equal(s.expectedNodename, 'node-1');
    assert.equal(s.image, base.image);
    // a name from extraArgs is not expected; a node IP from there needs no NodeIP; both families in one flag
    const own = kubeletSpecFrom({ ...base, extraArgs: { 'hostname-override': { values: ['other'] }, 'node-ip': { values: ['1.2.3.4'] } } }, { ...node, nodeIPs: undefined }, paths, 'metal')!;
    assert.equal(own.expectedNodename, '');
    assert.ok(own.args.includes('--hostname-override=other') && own.args.includes('--node-ip=1.2.3.4'), own.args.join(' '));
    assert.equal(kubeletSpecFrom(base, { ...node, nodeIPs: [] }, paths, 'metal'), undefined);
    assert.ok(kubeletSpecFrom(base, { ...node, nodeIPs: ['10.5.0.2', 'fd00::2'] }, paths, 'metal')!.args.includes('--node-ip=10.5.0.2,fd00::2'));
    // repeated values, standalone kubelets, external cloud providers, old kubelets, credential providers
    const more = kubeletSpecFrom(
      { ...base, image: 'kubelet:v1.26.1', skipNodeRegistration: true, cloudProviderExternal: true, extraArgs: { 'register-with-taints': { values: ['a=b:NoSchedule', 'c=d:NoExecute'] } }, credentialProviderConfig: { kind: 'CredentialProviderConfig' } },
      node,
      paths,
      'metal',
    )!;
    assert.deepEqual(more.args, [
      '--cert-dir=/var/lib/kubelet/pki',
      '--cloud-provider=external',
      '--config=/etc/kubernetes/kubelet.yaml',
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
      '--hostname-override=node-1',
      '--image-credential-provider-bin-dir=/usr/local/lib/kubelet/credentialproviders',
      '--image-credential-provider-config=/etc/kubernetes/kubelet-credentialproviderconfig.yaml',
      '--node-ip=10.5.0.2',
      '--register-with-taints=a=b:NoSchedule',
      '--register-with-taints=c=d:NoExecute',
    ]);
    assert.deepEqual(more.credentialProviderConfig, { kind: 'CredentialProviderConfig' });
    assert.equal(more.config.containerRuntimeEndpoint, undefined);
  });

  it('refuses extra args and config fields the node owns', () => {
    assert.throws(() => kubeletSpecFrom({ ...base, extraArgs: { cert_dir: { values: ['/x'] } } }, node, paths, 'metal'), (e: Error & { code?: string }) => e.code === 'BRONZE_KUBELET_SPEC' && /extra arg "cert-dir" is not allowed/.test(e.message));
    assert.throws(() => kubeletConfiguration({ ...base, extraConfig: { port: 1, authentication: {} } }, 'worker', paths, 'metal'), /field "authentication" can't be overridden; field "port" can't be overridden/);
  });

  it('builds the KubeletConfiguration: fixed fields, defaults extraConfig may change, keys in order', () => {
    const c = kubeletConfiguration({ ...base, extraConfig: { maxPods: 150, clusterDomain: 'other.local', logging: { verbosity: 4 } }, enableFSQuotaMonitoring: true, defaultRuntimeSeccompEnabled: true }, 'controlplane', paths, 'container');
    assert.deepEqual(c, {
      address: '0.0.0.0',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } },
      authorization: { mode: 'Webhook' },
      cgroupRoot: '/',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'other.local',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      failSwapOn: false,
      featureGates: { LocalStorageCapacityIsolationFSQuotaMonitoring: true },
      kind: 'KubeletConfiguration',
      kubeletCgroups: '/podruntime/kubelet',
      logging: { format: 'json', verbosity: 4 },
      maxPods: 150,
      oomScoreAdj: -450,
      port: 10250,
      protectKernelDefaults: false,
      registerWithTaints: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }],
      rotateCertificates: true,
      seccompDefault: true,
      serializeImagePulls: false,
      shutdownGracePeriod: '30s',
      shutdownGracePeriodCriticalPods: '10s',
      staticPodPath: '/etc/kubernetes/manifests',
      streamingConnectionIdleTimeout: '5m0s',
      systemCgroups: '/system',
      systemReserved: { cpu: '50m', 'ephemeral-storage': '256Mi', memory: '512Mi', pid: '100' },
      tlsMinVersion: 'VersionTLS13',
    });
    assert.deepEqual(Object.keys(c), Object.keys(c).sort());
    const w = kubeletConfiguration({ ...base, skipNodeRegistration: true, disableManifestsDirectory: true }, 'worker', paths, 'metal');
    assert.deepEqual([w.authorization, (w.authentication as { webhook: unknown }).webhook, w.staticPodPath, w.protectKernelDefaults, w.registerWithTaints], [{ mode: 'AlwaysAllow' }, { enabled: false }, undefined, true, undefined]);
    assert.equal((w.systemReserved as { memory: string }).memory, '384Mi');
  });

  it('reads kubelet versions from image tags', () => {
    assert.deepEqual(kubeletVersion('ghcr.io/siderolabs/kubelet:v1.36.3'), [1, 36]);
    assert.deepEqual(kubeletVersion('registry:5000/kubelet:1.26.0@sha256:abc'), [1, 26]);
    assert.equal(kubeletVersion('registry:5000/kubelet'), undefined);
    assert.equal(kubeletVersion('kubelet:latest'), undefined);
  });

  it('follows the KubeletConfig, the node name and IP', async () => {
    const t = ControllerTest.start([new KubeletSpecController({ paths, mode: 'container' }), new NodenameController()]);
    try {
      const spec = { namespace: 'k8s', type: KubeletSpecType, id: KubeletID };
      const cfg = { namespace: 'k8s', type: KubeletConfigType, id: KubeletID };
      await t.create({ namespace: 'config', type: MachineConfigType, id: ActiveID }, { text: 'version: v1alpha1\nmachine:\n  type: worker\n  token: t\n  kubelet:\n    registerWithFQDN: true\n' });
      await t.create({ namespace: 'network', type: HostnameStatusType, id: HostnameID }, { hostname: 'Node-1', domainname: 'example.org' });
      assert.deepEqual(await t.expect<NodenameSpec>({ namespace: 'k8s', type: NodenameType, id: NodenameID }), { nodename: 'node-1.example.org', hostnameVersion: '1', skipNodeRegistration: false });
      await t.create({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { type: 'worker' });
      await t.create(cfg, base);
      await t.create({ namespace: 'k8s', type: NodeIPType, id: KubeletID }, { addresses: ['10.5.0.2'] });
      const s = await t.expect<KubeletSpecSpec>(spec);
      assert.ok(s.args.includes('--hostname-override=node-1.example.org') && s.args.includes('--node-ip=10.5.0.2'), s.args.join(' '));
      assert.equal(s.config.protectKernelDefaults, false);
      await t.update<KubeletConfigSpec>(cfg, (c) => ({ ...c, extraArgs: { v: { values: ['4'] } } }));
      await t.expect<KubeletSpecSpec>(spec, (x) => x.args.includes('--v=4'));
      await t.destroy(cfg);
      await t.expectGone(spec);
    } finally {
      await t.stop();
    }
  });
});
