import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { type KubeletConfigSpec, KubeletConfigType, KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type NodeIPConfigSpec, NodeIPConfigType } from '../../resources/k8s/node-ip-config.js';
import { ControllerTest } from '../ctest.js';
import { DefaultKubeletImage, dnsServiceIPs, KubeletConfigController } from './kubelet-config.js';
import { NodeIPConfigController } from './node-ip-config.js';
import { parsePrefix } from './subnets.js';

const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
const kcPtr = { namespace: 'k8s', type: KubeletConfigType, id: KubeletID };
const nipcPtr = { namespace: 'k8s', type: NodeIPConfigType, id: KubeletID };

const config = (kubelet: string[], cluster: string[] = []) =>
  ['version: v1alpha1', 'machine:', '  type: worker', '  token: abc.def', ...kubelet, 'cluster:', '  controlPlane:', '    endpoint: https://10.5.0.1:6443', ...cluster, ''].join('\n');

describe('k8s.KubeletConfigController and k8s.NodeIPConfigController', () => {
  it('work out the cluster DNS service address of each service subnet', () => {
    assert.deepEqual(dnsServiceIPs(['10.96.0.0/12', 'fd00:10:96::/112']), ['10.96.0.10', 'fd00:10:96::a']);
    assert.deepEqual(dnsServiceIPs(['10.96.3.7/12']), ['10.96.0.10']);
    assert.equal(parsePrefix('2001:db8::/32').format(1n), '::1');
    assert.throws(() => parsePrefix('10.0.0.0/33'), /invalid subnet "10.0.0.0\/33"/);
    assert.throws(() => parsePrefix('nonsense'), /invalid subnet/);
  });

  it('gather the kubelet settings of the config, follow its changes, and go with the kubelet section', async () => {
    const t = ControllerTest.start([new KubeletConfigController(), new NodeIPConfigController()]);
    try {
      await t.create(cfgPtr, {
        text: config(
          [
            '  kubelet:',
            '    image: ghcr.io/siderolabs/kubelet:v1.35.2',
            '    extraArgs:',
            '      feature-gates: A=true',
            '    extraMounts:',
            '      - destination: /var/local',
            '        source: /var/local',
            '        options: [rbind, rw]',
            '    extraConfig:',
            '      maxPods: 150',
            '    nodeIP:',
            "      validSubnets: ['10.5.0.0/24', '!10.5.0.1/32']",
            '  features:',
            '    diskQuotaSupport: true',
          ],
          ['  network:', '    dnsDomain: example.local', '    podSubnets: [10.200.0.0/16]', '    serviceSubnets: [10.100.0.0/16]', '  allowSchedulingOnControlPlanes: true'],
        ),
      });
      const kc = await t.expect<KubeletConfigSpec>(kcPtr);
      assert.deepEqual(kc, {
        image: 'ghcr.io/siderolabs/kubelet:v1.35.2',
        clusterDNS: ['10.100.0.10'],
        clusterDomain: 'example.local',
        extraArgs: { 'feature-gates': { values: ['A=true'] } },
        extraMounts: [{ destination: '/var/local', type: 'bind', source: '/var/local', options: ['rbind', 'rw'] }],
        extraConfig: { maxPods: 150 },
        cloudProviderExternal: false,
        defaultRuntimeSeccompEnabled: false,
        skipNodeRegistration: false,
        staticPodListURL: '',
        disableManifestsDirectory: false,
        enableFSQuotaMonitoring: true,
        allowSchedulingOnControlPlane: true,
      });
      assert.deepEqual(await t.expect<NodeIPConfigSpec>(nipcPtr), { validSubnets: ['10.5.0.0/24', '!10.5.0.1/32'], excludeSubnets: ['10.200.0.0/16', '10.100.0.0/16'] });

      // the defaults: Talos's image, DNS from the default service subnet; any address of its family
      await t.update<{ text: string }>(cfgPtr, () => ({ text: config(['  kubelet:', '    clusterDNS: []']) }));
      const d = await t.expect<KubeletConfigSpec>(kcPtr, (s) => s.image === DefaultKubeletImage);
      assert.deepEqual([d.clusterDNS, d.clusterDomain, d.extraArgs, d.extraMounts, d.extraConfig], [['10.96.0.10'], 'cluster.local', {}, [], {}]);
      assert.deepEqual(await t.expect<NodeIPConfigSpec>(nipcPtr, (s) => s.validSubnets[0] === '0.0.0.0/0'), { validSubnets: ['0.0.0.0/0'], excludeSubnets: ['10.244.0.0/16', '10.96.0.0/12'] });

      // no kubelet section: no kubelet (the node IP config stays, as it depends on the cluster only)
      await t.update<{ text: string }>(cfgPtr, () => ({ text: config([]) }));
      await t.expectGone(kcPtr);
      await t.expect(nipcPtr);
      await t.destroy(cfgPtr);
      await t.expectGone(nipcPtr);
    } finally {
      await t.stop();
    }
  });
});
