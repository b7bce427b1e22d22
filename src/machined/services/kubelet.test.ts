import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parse as parseYAML } from 'yaml';
import { InMemoryState } from '../../cosi/inmem.js';
import { State } from '../../cosi/state.js';
import type { KubeletSpecSpec } from '../../resources/k8s/kubelet-spec.js';
import { LogManager } from '../logs/index.js';
import { ServiceState, Supervisor } from '../supervisor/index.js';
import type { ServiceContext } from './context.js';
import { bootstrapKubeconfig, kubeletPathsOf, kubeletServiceHost, writeKubeletFiles } from './kubelet.js';

const spec: KubeletSpecSpec = {
  image: 'ghcr.io/siderolabs/kubelet:v1.36.3',
  args: ['--hostname-override=node-1'],
  extraMounts: [],
  expectedNodename: 'node-1',
  config: { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.10'], port: 10250 },
};
const bootstrap = { endpoint: 'https://10.5.0.1:6443', caCrt: Buffer.from('-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n').toString('base64'), token: 'abcdef.0123456789abcdef' };

describe('the kubelet service', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-kubelet-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bootstrap kubeconfig: the endpoint, the CA and the token', () => {
    const k = parseYAML(bootstrapKubeconfig(bootstrap)) as { clusters: { cluster: Record<string, string> }[]; users: { user: { token: string } }[]; 'current-context': string };
    assert.deepEqual(k.clusters[0]!.cluster, { server: 'https://10.5.0.1:6443', 'certificate-authority-data': bootstrap.caCrt });
    assert.equal(k.users[0]!.user.token, 'abcdef.0123456789abcdef');
    assert.equal(k['current-context'], 'kubelet@local');
  });

  it('writes its files from the spec, the credential provider config only while the spec has one', async () => {
    const paths = kubeletPathsOf({ etc: join(dir, 'etc'), var: join(dir, 'var'), run: join(dir, 'run') });
    assert.deepEqual(paths, { etcKubernetes: join(dir, 'etc/kubernetes'), varLibKubelet: join(dir, 'var/lib/kubelet'), criAddress: join(dir, 'run/containerd/containerd.sock') });
    const cp = join(dir, 'etc/kubernetes/kubelet-credentialproviderconfig.yaml');
    await writeKubeletFiles(paths, { ...spec, credentialProviderConfig: { apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [] } }, bootstrap);
    assert.deepEqual(parseYAML(readFileSync(join(dir, 'etc/kubernetes/kubelet.yaml'), 'utf8')), spec.config);
    assert.equal(statSync(join(dir, 'etc/kubernetes/kubelet.yaml')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'etc/kubernetes/pki/ca.crt'), 'utf8'), '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n');
    assert.match(readFileSync(join(dir, 'etc/kubernetes/bootstrap-kubeconfig'), 'utf8'), /token: abcdef\.0123456789abcdef/);
    assert.equal((parseYAML(readFileSync(cp, 'utf8')) as { kind: string }).kind, 'CredentialProviderConfig');
    for (const d of ['etc/kubernetes/manifests', 'var/lib/kubelet/pki']) assert.ok(statSync(join(dir, d)).isDirectory(), d);
    await writeKubeletFiles(paths, spec, bootstrap);
    assert.equal(existsSync(cp), false);
  });

  it('is loaded once by its host, fails without a spec, and is started again after failing', async () => {
    const logs = new LogManager({ directory: join(dir, 'logs') });
    const ctx: ServiceContext = {
      state: new State(new InMemoryState()),
      logs,
      logger: pino({ level: 'silent' }),
      paths: { systemRun: join(dir, 'system/run'), systemVar: join(dir, 'system/var'), run: join(dir, 'run'), etc: join(dir, 'etc'), var: join(dir, 'var') },
      // containerd is there as far as the service can tell, so its pre step runs
      which: (n) => `/usr/bin/${n}`,
    };
    const sv = new Supervisor({ logger: ctx.logger });
    const ac = new AbortController();
    try {
      const host = kubeletServiceHost(sv, ctx, { spec: async () => undefined, signal: ac.signal, retry: { initialDelay: 10, maxDelay: 20 } });
      assert.equal(host.isRunning(), false);
      host.load();
      host.load();
      assert.deepEqual(sv.list().map((s) => s.id), ['kubelet']);
      // time and network are not this test's business
      const def = sv.get('kubelet').definition;
      (def as { condition?: unknown }).condition = undefined;
      (def as { dependsOn?: string[] }).dependsOn = [];
      const svc = sv.get('kubelet');
      const failures = () => svc.events().filter((e) => e.state === ServiceState.Failed);
      await host.start();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no second failure: ${JSON.stringify(svc.events().map((e) => e.msg))}`)), 5000);
        const check = () => {
          if (failures().length >= 2) {
            clearTimeout(t);
            unwatch();
            resolve();
          }
        };
        const unwatch = svc.watch(check);
        check();
      });
      assert.equal(failures()[0]!.msg, 'Failed to run pre stage: the kubelet has no KubeletSpec');
    } finally {
      ac.abort();
      await sv.shutdown();
      await logs.close();
    }
  });
});
