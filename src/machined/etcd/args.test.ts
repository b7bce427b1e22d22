import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EtcdSpecSpec } from '../../resources/etcd/spec.js';
import { EtcdArgsError, etcdArgs, etcdPaths, etcdURLs, localClientEndpoint } from './args.js';
import { etcdTarget } from './client.js';

const spec = (over: Partial<EtcdSpecSpec> = {}): EtcdSpecSpec => ({
  name: 'cp-1',
  advertisedAddresses: ['10.5.0.2'],
  listenPeerAddresses: ['0.0.0.0'],
  listenClientAddresses: ['0.0.0.0'],
  image: 'registry.k8s.io/etcd:v3.6.12',
  extraArgs: {},
  ...over,
});
const paths = etcdPaths({ system: '/system', var: '/var' });
const flag = (args: string[], name: string) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));

describe('etcd arguments', () => {
  it('bootstrap: a new cluster of this member, TLS from the PKI directory, Talos’s paths', () => {
    const a = etcdArgs({ spec: spec(), paths, dataEmpty: true, bootstrap: true, etcd35: false });
    assert.deepEqual(a, [...a].sort());
    assert.deepEqual(flag(a, 'initial-cluster'), ['cp-1=https://10.5.0.2:2380']);
    assert.deepEqual(flag(a, 'initial-cluster-state'), ['new']);
    assert.deepEqual(flag(a, 'data-dir'), ['/var/lib/etcd']);
    assert.deepEqual(flag(a, 'cert-file'), ['/system/secrets/etcd/server.crt']);
    assert.deepEqual(flag(a, 'peer-key-file'), ['/system/secrets/etcd/peer.key']);
    assert.deepEqual(flag(a, 'trusted-ca-file'), ['/system/secrets/etcd/ca.crt']);
    assert.deepEqual(flag(a, 'listen-client-urls'), ['https://0.0.0.0:2379']);
    assert.deepEqual(flag(a, 'advertise-client-urls'), ['https://10.5.0.2:2379']);
    assert.deepEqual(flag(a, 'client-cert-auth'), ['true']);
    // a 3.5-only flag only for 3.5 and later
    assert.deepEqual(flag(a, 'experimental-compact-hash-check-enabled'), []);
    assert.deepEqual(flag(etcdArgs({ spec: spec(), paths, dataEmpty: true, bootstrap: true, etcd35: true }), 'experimental-compact-hash-check-enabled'), ['true']);
  });

  it('join: the existing cluster it was given; with data: no initial cluster at all', () => {
    const joined = etcdArgs({ spec: spec(), paths, dataEmpty: true, bootstrap: false, initialCluster: 'a=https://10.5.0.3:2380,cp-1=https://10.5.0.2:2380', etcd35: false });
    assert.deepEqual(flag(joined, 'initial-cluster-state'), ['existing']);
    assert.deepEqual(flag(joined, 'initial-cluster'), ['a=https://10.5.0.3:2380,cp-1=https://10.5.0.2:2380']);
    assert.throws(() => etcdArgs({ spec: spec(), paths, dataEmpty: true, bootstrap: false, etcd35: false }), EtcdArgsError);
    const restart = etcdArgs({ spec: spec(), paths, dataEmpty: false, bootstrap: false, etcd35: false });
    assert.deepEqual(flag(restart, 'initial-cluster'), []);
    assert.deepEqual(flag(restart, 'initial-cluster-state'), []);
  });

  it('extra args add flags, may replace the initial cluster settings, and may not touch what the node sets', () => {
    const a = etcdArgs({ spec: spec({ extraArgs: { 'initial-cluster': { values: ['x=https://1.2.3.4:2380'] }, 'quota-backend-bytes': { values: ['8589934592'] } } }), paths, dataEmpty: true, bootstrap: true, etcd35: false });
    assert.deepEqual(flag(a, 'initial-cluster'), ['x=https://1.2.3.4:2380']);
    assert.deepEqual(flag(a, 'quota-backend-bytes'), ['8589934592']);
    assert.throws(() => etcdArgs({ spec: spec({ extraArgs: { 'data-dir': { values: ['/tmp'] } } }), paths, dataEmpty: true, bootstrap: true, etcd35: false }), /extra arg "data-dir" is not allowed/);
  });

  it('URLs and endpoints: IPv6 in brackets, the local member on loopback when etcd listens everywhere', () => {
    assert.deepEqual(etcdURLs(['10.0.0.1', 'fd00::1'], 2380), ['https://10.0.0.1:2380', 'https://[fd00::1]:2380']);
    assert.equal(localClientEndpoint({ listenClientAddresses: ['0.0.0.0'] }), 'https://127.0.0.1:2379');
    assert.equal(localClientEndpoint({ listenClientAddresses: ['::'] }), 'https://[::1]:2379');
    assert.equal(localClientEndpoint({ listenClientAddresses: ['127.77.0.2'] }), 'https://127.77.0.2:2379');
    assert.equal(etcdTarget('https://127.77.0.2:2379'), '127.77.0.2:2379');
    assert.equal(etcdTarget('[fd00::1]:2379'), '[fd00::1]:2379');
    assert.throws(() => etcdTarget('https://'), /invalid etcd endpoint/);
  });
});
