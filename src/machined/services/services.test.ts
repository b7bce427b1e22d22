import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, type ServiceDefinition as GrpcServiceDefinition } from '@grpc/grpc-js';
import pino from 'pino';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { NetworkStatusID, NetworkStatusType } from '../../resources/network/status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import { LogManager } from '../logs/index.js';
import { ServiceState, Supervisor } from '../supervisor/index.js';
import { containerdService, criService, etcdService, EtcdSpecID, EtcdSpecType, grpcHealthCheck, GrpcHealthChecker, kubeletService, type ServiceContext } from './index.js';

const raw = (b: Buffer) => b;
const healthService = {
  check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
} as unknown as GrpcServiceDefinition;

/** A program that stands in for containerd: serves gRPC health (SERVING) on its --address and notes its argv. */
const FAKE_CONTAINERD = (root: string) => `#!${process.execPath}
const grpc = require(${JSON.stringify(join(root, 'node_modules/@grpc/grpc-js'))});
const fs = require('fs');
const args = process.argv.slice(2);
const address = args[args.indexOf('--address') + 1];
fs.mkdirSync(require('path').dirname(address), { recursive: true });
fs.writeFileSync(address + '.argv', JSON.stringify(args));
const server = new grpc.Server();
const raw = (b) => b;
server.addService({ check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } }, { check: (_c, cb) => cb(null, Buffer.from([8, 1])) });
server.bindAsync('unix:' + address, grpc.ServerCredentials.createInsecure(), () => console.log('serving'));
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
`;

describe('service definitions', () => {
  let dir: string;
  const logs = new LogManager();
  const state = new State(new InMemoryState());
  const root = new URL('../../..', import.meta.url).pathname;
  let ctx: ServiceContext;
  const supervisors: Supervisor[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-services-'));
    ctx = {
      state,
      logs,
      logger: pino({ level: 'silent' }),
      paths: { systemRun: join(dir, 'system/run'), systemVar: join(dir, 'system/var'), run: join(dir, 'run'), etc: join(dir, 'etc'), var: join(dir, 'var') },
      which: () => undefined,
    };
  });

  after(async () => {
    await Promise.all(supervisors.map((s) => s.shutdown()));
    await logs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const supervisor = () => {
    const s = new Supervisor({ conditionCheckInterval: 20 });
    supervisors.push(s);
    return s;
  };
  const until = async (s: Supervisor, id: string, pred: () => boolean) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 20_000);
    try {
      await s.serviceCondition(id, 'up').wait(ac.signal);
      assert.ok(pred(), `${id}: ${s.get(id).toProto().state}`);
    } finally {
      clearTimeout(timer);
    }
  };

  it('the gRPC health check passes on SERVING and says what it got otherwise', async () => {
    let status = 1;
    const server = new Server();
    server.addService(healthService, { check: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from([8, status])) });
    const sock = join(dir, 'health.sock');
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${sock}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    try {
      await grpcHealthCheck(sock, AbortSignal.timeout(5000));
      status = 2;
      await assert.rejects(grpcHealthCheck(sock, AbortSignal.timeout(5000)), /unexpected serving status: 2/);
      await assert.rejects(grpcHealthCheck(join(dir, 'nothing.sock'), AbortSignal.timeout(5000)), /UNAVAILABLE|No connection/);
    } finally {
      server.forceShutdown();
    }
  });

  it('a health checker keeps one connection while the server is healthy, and a new one reaches a restarted server', async () => {
    const inner = join(dir, 'health-inner.sock');
    const outer = join(dir, 'health-outer.sock');
    const start = async () => {
      const server = new Server();
      server.addService(healthService, { check: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from([8, 1])) });
      await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${inner}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
      return server;
    };
    // a relay in front of the server counts the connections the checker opens
    let connections = 0;
    const relay = createServer((c) => {
      connections++;
      const up = createConnection(inner);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.on('close', () => up.destroy());
      up.on('close', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(outer, resolve));
    let server = await start();
    const checker = new GrpcHealthChecker(outer);
    try {
      for (let i = 0; i < 5; i++) await checker.check(AbortSignal.timeout(5000));
      assert.equal(connections, 1);
      server.forceShutdown();
      await assert.rejects(checker.check(AbortSignal.timeout(5000)));
      const before = connections;
      server = await start();
      await checker.check(AbortSignal.timeout(5000));
      await checker.check(AbortSignal.timeout(5000));
      assert.equal(connections, before + 1);
    } finally {
      checker.close();
      server.forceShutdown();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('containerd and cri are skipped on a node without containerd', async () => {
    const s = supervisor();
    await s.loadAndStart(containerdService(ctx), criService(ctx));
    await until(s, 'containerd', () => s.get('containerd').getState() === ServiceState.Skipped);
    await until(s, 'cri', () => s.get('cri').getState() === ServiceState.Skipped);
  });

  it('containerd runs with Talos’s arguments and is healthy once its health service says SERVING', { timeout: 30_000, skip: process.getuid?.() !== 0 ? 'containerd is run only as root' : false }, async () => {
    const fake = join(dir, 'containerd');
    writeFileSync(fake, FAKE_CONTAINERD(root));
    chmodSync(fake, 0o755);
    const s = supervisor();
    await s.loadAndStart(containerdService({ ...ctx, which: (n) => (n === 'containerd' ? fake : n === 'runc' ? '/bin/true' : undefined) }));
    await until(s, 'containerd', () => s.get('containerd').getState() === ServiceState.Running);
    const address = join(dir, 'system/run/containerd/containerd.sock');
    assert.deepEqual(JSON.parse(readFileSync(`${address}.argv`, 'utf8')), ['--address', address, '--state', join(dir, 'system/run/containerd'), '--root', join(dir, 'system/var/lib/containerd'), '--config', join(dir, 'system/run/containerd/config.toml')]);
    assert.equal(s.get('containerd').toProto().health?.healthy, true);
    await s.stop('containerd');
    assert.equal(s.get('containerd').getState(), ServiceState.Finished);
  });

  it('the kubelet and etcd wait on the CRI, synced time, a ready network (and etcd on its spec), saying so', async () => {
    const kubelet = kubeletService(ctx);
    const etcd = etcdService(ctx);
    assert.deepEqual(kubelet.dependsOn, ['cri']);
    assert.deepEqual(etcd.dependsOn, ['cri']);
    assert.equal(kubelet.condition!.describe(), 'time sync, network');
    const ac = new AbortController();
    const kubeletReady = kubelet.condition!.wait(ac.signal);
    const etcdReady = etcd.condition!.wait(ac.signal);
    await state.create(newResource({ namespace: 'runtime', type: TimeStatusType, id: TimeStatusID }, { synced: true, epoch: 0, syncDisabled: false }));
    await state.create(newResource({ namespace: 'network', type: NetworkStatusType, id: NetworkStatusID }, { addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: true }));
    await kubeletReady;
    assert.equal(kubelet.condition!.describe(), '');
    assert.equal(etcd.condition!.describe(), 'etcd spec');
    await state.create(newResource({ namespace: 'etcd', type: EtcdSpecType, id: EtcdSpecID }, { name: 'cp-1' }));
    await etcdReady;
    // the API may start and restart the kubelet, and restart etcd
    assert.deepEqual(kubelet.api, { start: true, restart: true });
    assert.deepEqual(etcd.api, { restart: true });
  });
});
