import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import type { EtcdRootSpec } from '../../resources/secrets/etcd-root.js';
import type { KubernetesRootSpec } from '../../resources/secrets/kubernetes-root.js';
import { MachineTypeController } from '../config/machine-type.js';
import { ControllerTest } from '../ctest.js';
import { KubernetesRootController } from './kubernetes-root.js';

describe('etcd and Kubernetes root secrets', () => {
  it('come from a control plane config, and go when the machine is a worker', async () => {
    const bundle = await generateBundle({ clusterName: 'roots', endpoint: 'https://10.5.0.2:6443' });
    const t = ControllerTest.start([new MachineTypeController(), new KubernetesRootController()]);
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const etcdPtr = { namespace: 'secrets', type: 'EtcdRootSecrets.secrets.talos.dev', id: 'etcd' };
    const k8sPtr = { namespace: 'secrets', type: 'KubernetesRootSecrets.secrets.talos.dev', id: 'k8s' };
    const cluster = bundle.controlplane.v1alpha1!.cluster as { ca: { crt: string; key: string }; etcd: { ca: { crt: string } }; token: string; serviceAccount: { key: string } };
    try {
      await t.create(cfgPtr, { text: bundle.controlplane.toString() });
      const etcd = await t.expect<EtcdRootSpec>(etcdPtr);
      assert.equal(etcd.etcdCA?.crt, cluster.etcd.ca.crt);
      const k8s = await t.expect<KubernetesRootSpec>(k8sPtr);
      assert.equal(k8s.name, 'roots');
      assert.equal(k8s.endpoint, 'https://10.5.0.2:6443');
      assert.equal(k8s.localEndpoint, 'https://localhost:6443');
      assert.equal(k8s.dnsDomain, 'cluster.local');
      assert.deepEqual(k8s.issuingCA, { crt: cluster.ca.crt, key: cluster.ca.key });
      assert.equal(`${k8s.bootstrapTokenID}.${k8s.bootstrapTokenSecret}`, cluster.token);
      assert.equal(k8s.serviceAccount?.key, cluster.serviceAccount.key);
      await t.update<{ text: string }>(cfgPtr, () => ({ text: bundle.worker.toString() }));
      await t.expectGone(etcdPtr);
      await t.expectGone(k8sPtr);
    } finally {
      await t.stop();
    }
  });
});
