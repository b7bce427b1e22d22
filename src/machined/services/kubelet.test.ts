import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/loader.js';
import { kubeletSpec, pickNodeIP } from './kubelet.js';

describe('kubelet spec', () => {
  const paths = { etcKubernetes: '/etc/kubernetes', varLibKubelet: '/var/lib/kubelet', criAddress: '/run/containerd/containerd.sock' };

  it('builds the arguments from the config, extra args over the defaults', () => {
    const cfg = loadConfig('version: v1alpha1\nmachine:\n  type: worker\n  token: t\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.36.3\n    extraArgs:\n      feature_gates: A=true\n      hostname-override: other\n');
    const s = kubeletSpec(cfg, paths, { hostname: 'node-1', nodeIP: '10.0.0.2' });
    assert.equal(s.image, 'ghcr.io/siderolabs/kubelet:v1.36.3');
    assert.deepEqual(s.args, [
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubeconfig',
      '--cert-dir=/var/lib/kubelet/pki',
      '--config=/etc/kubernetes/kubelet.yaml',
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
      '--feature-gates=A=true',
      '--hostname-override=other',
      '--kubeconfig=/etc/kubernetes/kubeconfig-kubelet',
      '--node-ip=10.0.0.2',
    ]);
  });

  it('names a missing image', () => {
    assert.throws(() => kubeletSpec(loadConfig('version: v1alpha1\nmachine:\n  type: worker\n  token: t\n'), paths, { hostname: 'n' }), /machine.kubelet.image is not set/);
  });

  it('picks the node IP inside the valid subnets', () => {
    const addrs = ['192.168.1.5/24', '10.0.0.2/8', 'fd00::1/64'];
    assert.equal(pickNodeIP(addrs), '192.168.1.5');
    assert.equal(pickNodeIP(addrs, ['10.0.0.0/8']), '10.0.0.2');
    assert.equal(pickNodeIP(addrs, ['0.0.0.0/0', '!192.168.0.0/16']), '10.0.0.2');
    assert.equal(pickNodeIP(addrs, ['172.16.0.0/12']), undefined);
  });
});
