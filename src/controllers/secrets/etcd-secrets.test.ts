import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import type { EtcdSecretsSpec } from '../../resources/secrets/etcd-secrets.js';
import { ControllerTest } from '../ctest.js';
import { EtcdSecretsController } from './etcd-secrets.js';

const cert = (b64: string) => new X509Certificate(Buffer.from(b64, 'base64'));

describe('etcd certificates', () => {
  it('are issued by the etcd CA for the node once time is synced, again when the names change, and go with the CA', async () => {
    const bundle = await generateBundle({ clusterName: 'etcd', endpoint: 'https://10.5.0.2:6443' });
    const etcdCA = (bundle.controlplane.v1alpha1!.cluster as { etcd: { ca: { crt: string; key: string } } }).etcd.ca;
    const t = ControllerTest.start([new EtcdSecretsController()]);
    const ptr = { namespace: 'secrets', type: 'EtcdSecrets.secrets.talos.dev', id: 'etcd' };
    const rootPtr = { namespace: 'secrets', type: 'EtcdRootSecrets.secrets.talos.dev', id: 'etcd' };
    const hostPtr = { namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' };
    try {
      await t.create(rootPtr, { etcdCA: etcdCA });
      await t.create(hostPtr, { hostname: 'cp-1', domainname: '' });
      await t.create({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'accumulative' }, { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' });
      await t.create({ namespace: 'runtime', type: 'TimeStatuses.v1alpha1.talos.dev', id: 'node' }, { synced: true, epoch: 0, syncDisabled: false });
      const s = await t.expect<EtcdSecretsSpec>(ptr);
      const ca = cert(etcdCA.crt);
      const server = cert(s.etcd.crt);
      assert.ok(server.verify(ca.publicKey));
      assert.equal(server.subject, 'CN=cp-1');
      assert.equal(server.subjectAltName, 'DNS:cp-1, DNS:localhost, IP Address:10.5.0.2, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      assert.equal(cert(s.etcdPeer.crt).subjectAltName, 'DNS:cp-1, IP Address:10.5.0.2');
      assert.equal(cert(s.etcdAdmin.crt).subject, 'CN=talos');
      assert.equal(cert(s.etcdAPIServer.crt).subject, 'CN=kube-apiserver');
      assert.ok(cert(s.etcdAPIServer.crt).verify(ca.publicKey));
      await t.update(hostPtr, () => ({ hostname: 'cp-2', domainname: 'example.org' }));
      const renamed = await t.expect<EtcdSecretsSpec>(ptr, (x) => cert(x.etcd.crt).subject === 'CN=cp-2');
      assert.match(cert(renamed.etcdPeer.crt).subjectAltName!, /^DNS:cp-2, DNS:cp-2\.example\.org, IP Address:10\.5\.0\.2$/);
      await t.destroy(rootPtr);
      await t.expectGone(ptr);
    } finally {
      await t.stop();
    }
  });
});
