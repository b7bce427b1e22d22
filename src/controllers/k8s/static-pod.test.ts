import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYAML } from 'yaml';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import type { KubeletConfigSpec } from '../../resources/k8s/kubelet-config.js';
import type { StaticPodServerStatusSpec, StaticPodSpec } from '../../resources/k8s/static-pod.js';
import { ControllerTest } from '../ctest.js';
import { KubeletConfigController } from './kubelet-config.js';
import { StaticPodConfigController, staticPodID } from './static-pod-config.js';
import { podListYAML, StaticPodServerController } from './static-pod-server.js';

const nginx = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nginx', namespace: 'kube-system' }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } };

const config = (pods: unknown[]) =>
  [
    'version: v1alpha1',
    'machine:',
    '  type: worker',
    '  token: t',
    '  kubelet: {}',
    ...(pods.length ? ['  pods:', ...pods.map((p) => `    - ${JSON.stringify(p)}`)] : []),
    'cluster:',
    '  controlPlane:',
    '    endpoint: https://10.5.0.1:6443',
    '',
  ].join('\n');

describe('static pods', () => {
  it('are named <namespace>-<name>, in the default namespace unless the pod says otherwise', () => {
    assert.equal(staticPodID(nginx), 'kube-system-nginx');
    assert.equal(staticPodID({ metadata: { name: 'web' } }), 'default-web');
    assert.deepEqual(staticPodID({ metadata: { namespace: 'x' } }), { error: 'metadata.name is missing' });
    assert.deepEqual(staticPodID({ kind: 'Pod' }), { error: 'metadata is missing' });
    assert.deepEqual(staticPodID({ metadata: { name: 'a', namespace: 3 } }), { error: 'metadata.namespace is not a string' });
  });

  it('are served to the kubelet as one PodList, keys in order', () => {
    assert.equal(
      podListYAML([{ spec: { b: 1, a: [{ z: 1, y: 2 }] }, kind: 'Pod' }]),
      ['kind: PodList', 'items:', '  - kind: Pod', '    spec:', '      a:', '        - y: 2', '          z: 1', '      b: 1', 'apiVersion: v1', ''].join('\n'),
    );
    assert.equal(podListYAML([]), 'kind: PodList\nitems: []\napiVersion: v1\n');
  });

  it('come from machine.pods, and the node serves them at the URL the kubelet config names', { timeout: 20_000 }, async () => {
    const t = ControllerTest.start([new StaticPodConfigController(), new StaticPodServerController(), new KubeletConfigController()]);
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const status = { namespace: 'k8s', type: 'StaticPodServerStatuses.kubernetes.talos.dev', id: 'static-pod-server-status' };
    const kubelet = { namespace: 'k8s', type: 'KubeletConfigs.kubernetes.talos.dev', id: 'kubelet' };
    const get = async (url: string) => {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    };
    try {
      const { url } = await t.expect<StaticPodServerStatusSpec>(status);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      // a pod without a name is left out; the others are there
      await t.create(cfgPtr, { text: config([nginx, { kind: 'Pod', metadata: {} }]) });
      assert.deepEqual((await t.expect<StaticPodSpec>({ namespace: 'k8s', type: 'StaticPods.kubernetes.talos.dev', id: 'kube-system-nginx' })).pod, nginx);
      await t.expectIDs({ namespace: 'k8s', type: 'StaticPods.kubernetes.talos.dev' }, ['kube-system-nginx']);
      assert.equal((await t.expect<KubeletConfigSpec>(kubelet)).staticPodListURL, url);
      let got = await get(`${url}/`);
      for (const deadline = Date.now() + 5000; !got.body.includes('nginx') && Date.now() < deadline; ) got = await get(url);
      assert.equal(got.status, 200);
      assert.deepEqual(parseYAML(got.body), { kind: 'PodList', items: [nginx], apiVersion: 'v1' });
      // the pod goes from the config: the list is empty
      await t.update<{ text: string }>(cfgPtr, () => ({ text: config([]) }));
      await t.expectIDs({ namespace: 'k8s', type: 'StaticPods.kubernetes.talos.dev' }, []);
      for (const deadline = Date.now() + 5000; got.body.includes('nginx') && Date.now() < deadline; ) got = await get(url);
      assert.deepEqual(parseYAML(got.body), { kind: 'PodList', items: [], apiVersion: 'v1' });
    } finally {
      await t.stop();
    }
  });
});
