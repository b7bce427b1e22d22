import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import type { KubeletSecretsSpec } from '../../resources/secrets/kubelet.js';
import { ControllerTest } from '../ctest.js';
import { KubeletSecretsController, kubeletSecretsOf } from './kubelet.js';

describe('kubelet secrets', () => {
  it('follow the config: KubePrism endpoint, cluster CA, bootstrap token; then the cluster endpoint without KubePrism', async () => {
    const bundle = await generateBundle({ clusterName: 'kubelets', endpoint: 'https://10.5.0.2:6443' });
    const t = ControllerTest.start([new KubeletSecretsController()]);
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const ptr = { namespace: 'secrets', type: 'KubeletSecrets.secrets.talos.dev', id: 'kubelet' };
    const cluster = bundle.worker.v1alpha1!.cluster as { ca: { crt: string }; token: string };
    try {
      await t.create(cfgPtr, { text: bundle.worker.toString() });
      const s = await t.expect<KubeletSecretsSpec>(ptr);
      assert.equal(s.endpoint, 'https://127.0.0.1:7445');
      assert.deepEqual(s.acceptedCAs, [{ crt: cluster.ca.crt }]);
      assert.equal(`${s.bootstrapTokenID}.${s.bootstrapTokenSecret}`, cluster.token);
      assert.match(s.bootstrapTokenID, /^[a-z0-9]{6}$/);

      const noPrism = bundle.worker.toString().replace(/kubePrism:\n(\s+)enabled: true/, 'kubePrism:\n$1enabled: false');
      assert.notEqual(noPrism, bundle.worker.toString());
      await t.update<{ text: string }>(cfgPtr, () => ({ text: noPrism }));
      await t.expect<KubeletSecretsSpec>(ptr, (x) => x.endpoint === 'https://10.5.0.2:6443');
    } finally {
      await t.stop();
    }
  });

  it('use the local API server on a control plane without KubePrism, and need a CA', () => {
    const cluster = { controlPlane: { endpoint: 'https://cp.example:6443', localAPIServerPort: 7443 }, ca: { crt: 'Q0E=' }, acceptedCAs: [{ crt: 'T0xE' }], token: 'abcdef.0123456789abcdef' };
    assert.deepEqual(kubeletSecretsOf({ type: 'controlplane' }, cluster), {
      endpoint: 'https://localhost:7443',
      acceptedCAs: [{ crt: 'Q0E=' }, { crt: 'T0xE' }],
      bootstrapTokenID: 'abcdef',
      bootstrapTokenSecret: '0123456789abcdef',
    });
    assert.equal((kubeletSecretsOf({ type: 'worker' }, cluster) as KubeletSecretsSpec).endpoint, 'https://cp.example:6443');
    // KubePrism where the node has it listen (a process node: its own address)
    const prism = { type: 'worker', features: { kubePrism: { enabled: true, port: 7445 } } };
    assert.equal((kubeletSecretsOf(prism, cluster, '127.9.0.2') as KubeletSecretsSpec).endpoint, 'https://127.9.0.2:7445');
    assert.equal((kubeletSecretsOf(prism, cluster, 'fd00::2') as KubeletSecretsSpec).endpoint, 'https://[fd00::2]:7445');
    assert.deepEqual(kubeletSecretsOf({ type: 'worker' }, { controlPlane: { endpoint: 'https://cp.example:6443' } }), { error: 'missing accepted Kubernetes CAs (.cluster.ca.crt, .cluster.acceptedCAs)' });
  });
});
