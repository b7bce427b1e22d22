import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import type { Affiliate } from '../api/gen/discovery/client/affiliate.js';
import { DiscoveryClient } from './client.js';
import { openAffiliate, sealAffiliate } from './crypto.js';
import { DiscoveryError, DiscoveryState, LIMITS, peerIP, startDiscoveryServer } from './server.js';

const log = pino({ level: process.env.DBG ? 'debug' : 'silent' });
const ttl = (s: number) => ({ seconds: String(s), nanos: 0 });

test('affiliate data round-trips through AES-GCM and is refused under another key', () => {
  const key = randomBytes(32);
  const sealed = sealAffiliate(key, Buffer.from('hello'));
  assert.equal(sealed.length, 12 + 5 + 16);
  assert.equal(openAffiliate(key, sealed).toString(), 'hello');
  assert.throws(() => openAffiliate(randomBytes(32), sealed));
  assert.throws(() => openAffiliate(key, sealed.subarray(0, 20)), /shorter than a nonce and a tag/);
  assert.throws(() => sealAffiliate(randomBytes(20), Buffer.alloc(1)), /20 bytes/);
});

test('the state keeps affiliates until their TTL runs out and tells watchers of every change', () => {
  let now = 1_000_000;
  const s = new DiscoveryState(() => now);
  const seen: { ids: string[]; deleted: boolean }[] = [];
  s.update({ clusterId: 'c', affiliateId: 'a', affiliateData: Buffer.from('A'), affiliateEndpoints: [], ttl: ttl(60) });
  const stop = s.watch('c', (r) => seen.push({ ids: r.affiliates.map((a) => a.id), deleted: r.deleted }));
  assert.deepEqual(seen, [{ ids: ['a'], deleted: false }]);
  s.update({ clusterId: 'c', affiliateId: 'b', affiliateData: Buffer.from('B'), affiliateEndpoints: [Buffer.alloc(16)], ttl: ttl(120) });
  // an update without data keeps the data and adds the endpoint once
  s.update({ clusterId: 'c', affiliateId: 'b', affiliateEndpoints: [Buffer.alloc(16)], ttl: ttl(120) });
  assert.deepEqual(s.list('c').map((a) => [a.id, a.data.toString(), a.endpoints.length]), [['a', 'A', 0], ['b', 'B', 1]]);
  s.update({ clusterId: 'other', affiliateId: 'x', affiliateData: Buffer.from('X'), affiliateEndpoints: [], ttl: ttl(60) });
  now += 61_000;
  assert.equal(s.expire(), 2);
  assert.deepEqual(s.list('c').map((a) => a.id), ['b']);
  assert.deepEqual(s.list('other'), []);
  s.delete({ clusterId: 'c', affiliateId: 'b' });
  assert.deepEqual(seen.slice(1), [
    { ids: ['b'], deleted: false },
    { ids: ['b'], deleted: false },
    { ids: ['a'], deleted: true },
    { ids: ['b'], deleted: true },
  ]);
  stop();
  assert.deepEqual(s.size, { clusters: 0, affiliates: 0, watchers: 0 });
});

test('the state refuses what is out of its limits, naming the field', () => {
  const s = new DiscoveryState();
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof DiscoveryError);
      return [e.grpcCode, e.message];
    }
    return undefined;
  };
  assert.deepEqual(code(() => s.update({ clusterId: '', affiliateId: 'a', affiliateEndpoints: [], ttl: ttl(1) })), [status.INVALID_ARGUMENT, 'cluster_id is empty']);
  assert.deepEqual(code(() => s.update({ clusterId: 'c', affiliateId: 'a', affiliateEndpoints: [], ttl: undefined })), [status.INVALID_ARGUMENT, 'ttl must be positive']);
  assert.deepEqual(code(() => s.update({ clusterId: 'c', affiliateId: 'a', affiliateEndpoints: [], ttl: ttl(3600) })), [status.INVALID_ARGUMENT, 'ttl is longer than 30 minutes']);
  assert.deepEqual(code(() => s.update({ clusterId: 'c', affiliateId: 'a', affiliateData: Buffer.alloc(LIMITS.dataBytes + 1), affiliateEndpoints: [], ttl: ttl(1) })), [
    status.INVALID_ARGUMENT,
    `affiliate_data is ${LIMITS.dataBytes + 1} bytes, more than ${LIMITS.dataBytes}`,
  ]);
});

test('peer strings give the client IP as bytes', () => {
  assert.deepEqual([...peerIP('127.65.0.3:41000')], [127, 65, 0, 3]);
  assert.deepEqual([...peerIP('ipv4:10.0.0.1:1')], [10, 0, 0, 1]);
  assert.equal(peerIP('[::1]:5').length, 16);
  assert.equal(peerIP('unix:/x').length, 0);
});

/** Resolves when `pred` holds, checked on each change; rejects at the deadline. */
function waitFor(changes: EventTarget, pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const t = setTimeout(() => {
      changes.removeEventListener('change', check);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    function check() {
      if (!pred()) return;
      clearTimeout(t);
      changes.removeEventListener('change', check);
      resolve();
    }
    changes.addEventListener('change', check);
  });
}

test('two nodes find each other through the service; a node of another cluster secret is not seen; a delete is', { timeout: 30_000 }, async () => {
  const server = await startDiscoveryServer({ listen: '127.0.0.1:0', log });
  const key = randomBytes(32);
  const ac = new AbortController();
  const changes = new EventTarget();
  const node = (id: string, k: Uint8Array, clusterId = 'cluster-1') =>
    new DiscoveryClient({
      endpoint: `127.0.0.1:${server.port}`,
      insecure: true,
      clusterId,
      affiliateId: id,
      key: k,
      ttlMs: 60_000,
      clientVersion: 'v0.0.0',
      log,
      onChange: () => changes.dispatchEvent(new Event('change')),
      backoffMs: { min: 50, max: 200 },
    });
  const aff = (id: string, hostname: string, machineType: string): Affiliate => ({
    nodeId: id,
    addresses: [Buffer.from([127, 65, 0, Number(id.slice(1))])],
    hostname,
    nodename: hostname,
    machineType,
    operatingSystem: 'Bronze (v0.0.0)',
    controlPlane: machineType === 'controlplane' ? { apiServerPort: 6443 } : undefined,
  });
  const a = node('n2', key);
  const b = node('n3', key);
  const stranger = node('n9', randomBytes(32));
  const runs = [a.run(ac.signal), b.run(ac.signal), stranger.run(ac.signal)];
  const unwatch = server.state.watch('cluster-1', () => changes.dispatchEvent(new Event('change')));
  try {
    a.setLocalData(aff('n2', 'cp-1', 'controlplane'));
    b.setLocalData(aff('n3', 'worker-1', 'worker'));
    stranger.setLocalData(aff('n9', 'intruder', 'worker'));
    await waitFor(changes, () => a.affiliates().has('n3') && b.affiliates().has('n2'), 'both nodes to see each other');
    const seenByB = b.affiliates().get('n2')!;
    assert.equal(seenByB.hostname, 'cp-1');
    assert.equal(seenByB.machineType, 'controlplane');
    assert.equal(seenByB.controlPlane?.apiServerPort, 6443);
    assert.deepEqual([...seenByB.addresses[0]!], [127, 65, 0, 2]);
    assert.deepEqual([...a.getPublicIP()], [127, 0, 0, 1]);
    // the stranger shares the cluster id but not the key: its data is stored, never readable, and it reads nothing
    await waitFor(changes, () => server.state.list('cluster-1').length === 3, 'the stranger to publish');
    assert.equal(stranger.affiliates().size, 0);
    assert.ok(!a.affiliates().has('n9'));
    a.setLocalData(aff('n2', 'cp-renamed', 'controlplane'));
    await waitFor(changes, () => b.affiliates().get('n2')?.hostname === 'cp-renamed', 'the new hostname to reach the other node');
    // the removal is confirmed, and the node stays out: data it is given afterwards is not published
    await b.deleteLocalAffiliate();
    assert.ok(!server.state.list('cluster-1').some((x) => x.id === 'n3'));
    b.setLocalData(aff('n3', 'worker-1', 'worker'));
    await waitFor(changes, () => !a.affiliates().has('n3'), 'the deleted node to disappear');
  } finally {
    unwatch();
    ac.abort();
    await Promise.all(runs);
    await server.close();
  }
});

test('a client reconnects after the service restarts and publishes again', { timeout: 30_000 }, async () => {
  let server = await startDiscoveryServer({ listen: '127.0.0.1:0', log });
  const port = server.port;
  const key = randomBytes(32);
  const ac = new AbortController();
  const changes = new EventTarget();
  const mk = (id: string) =>
    new DiscoveryClient({ endpoint: `127.0.0.1:${port}`, insecure: true, clusterId: 'c', affiliateId: id, key, ttlMs: 60_000, clientVersion: 'v', log, onChange: () => changes.dispatchEvent(new Event('change')), backoffMs: { min: 50, max: 200 } });
  const a = mk('a');
  const b = mk('b');
  const runs = [a.run(ac.signal), b.run(ac.signal)];
  try {
    a.setLocalData({ nodeId: 'a', addresses: [], hostname: 'a', nodename: 'a', machineType: 'worker', operatingSystem: '' });
    b.setLocalData({ nodeId: 'b', addresses: [], hostname: 'b', nodename: 'b', machineType: 'worker', operatingSystem: '' });
    await waitFor(changes, () => a.affiliates().has('b'), 'a to see b');
    await server.close();
    server = await startDiscoveryServer({ listen: `127.0.0.1:${port}`, log });
    const restarted = server;
    const unwatch = restarted.state.watch('c', () => changes.dispatchEvent(new Event('change')));
    try {
      await waitFor(changes, () => restarted.state.list('c').length === 2, 'both nodes to publish again to the new service');
    } finally {
      unwatch();
    }
    await waitFor(changes, () => a.affiliates().has('b') && b.affiliates().has('a'), 'the nodes to see each other again');
  } finally {
    ac.abort();
    await Promise.all(runs);
    await server.close();
  }
});
