import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { parse as parseYAML } from 'yaml';
import { Disk_DiskType } from '../../src/api/gen/storage/storage.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { serializeTalosconfig } from '../../src/client/talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { FakeSysfs } from '../../src/controllers/block/fake-sysfs.js';
import { editV1Alpha1 } from '../../src/machined/api/testing.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { type RunningMachined, startMachined } from '../../src/machined/main.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { SERVER_HEALTH_OK_LINES } from '../helpers/health-lines.js';
import { LoopbackNTPServer } from '../helpers/ntp-server.js';
import { freePort } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.9.2';
const cmd = (role: string) => [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), role];
const HOUR = 3_600_000;

/**
 * time.TimeService, storage.StorageService with the Disks resources, and cluster.ClusterService/HealthCheck of a
 * process control plane, through apid with mTLS and `-n` fan-out: its time server is a loopback NTP server an hour
 * ahead, and its disks are a fake sysfs tree.
 */
describe('TimeService, Disks and HealthCheck of a process node', () => {
  let dir: string;
  let node: RunningMachined;
  let client: Client;
  let ntp: LoopbackNTPServer;
  let sysfs: FakeSysfs;
  let env: NodeJS.ProcessEnv;
  const ac = new AbortController();
  const cli = (...args: string[]) => bronzectl(['-n', ADDRESS, ...args], env);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-tdh-'));
    ntp = await new LoopbackNTPServer(HOUR).start();
    sysfs = new FakeSysfs();
    sysfs.add({ name: 'vda', dev: '253:0', parent: 'pci0000:00/0000:00:05.0/virtio2', sectors: 20_971_520, files: { 'queue/rotational': '1', 'device/serial': 'BRONZE01' }, device: 'pci0000:00/0000:00:05.0/virtio2' });
    sysfs.add({ name: 'ram0', dev: '1:0', parent: 'virtual', sectors: 8192 });
    sysfs.symlink('by-id/virtio-BRONZE01', 'vda');
    const apiPort = await freePort(ADDRESS);
    const bundle = await generateBundle({ clusterName: 'tdh', endpoint: `https://${ADDRESS}:6443` });
    const config = editV1Alpha1(bundle.controlplane.toString(), (v) => {
      v.machine!.time = { servers: [ntp.address, 'time.invalid'] };
    });
    new ConfigStore(dir).write(Buffer.from(config));
    node = await startMachined({ stateDir: dir, address: ADDRESS, apiPort, trustdPort: await freePort(ADDRESS), apidCommand: cmd('apid'), disks: sysfs.paths, signal: ac.signal });
    const context = bundle.talosconfig.contexts.tdh!;
    client = new Client(clientOptionsFromContext(context, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig'), PATH: process.env.PATH };
    writeFileSync(env.TALOSCONFIG!, serializeTalosconfig({ context: 'tdh', contexts: { tdh: { ...context, endpoints: [`${ADDRESS}:${apiPort}`], nodes: [ADDRESS] } } }));
    await node.waitForLog('apid', 'apid serving', 30_000);
    await node.booted;
  });

  after(async () => {
    client?.close();
    ac.abort();
    await node?.stop();
    ntp?.stop();
    sysfs?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Time asks the first server of the config; TimeCheck the given one; an empty server is InvalidArgument', { timeout: 30_000 }, async () => {
    const t = await client.time.time({}, { timeout: 10_000 });
    assert.equal(t.messages.length, 1);
    const m = t.messages[0]!;
    assert.equal(m.server, ntp.address);
    const ahead = m.remotetime!.getTime() - m.localtime!.getTime();
    assert.ok(Math.abs(ahead - HOUR) < 5000, `the server's clock is an hour ahead, got ${ahead} ms`);
    const asked = ntp.queries;
    const c = await client.time.timeCheck({ server: ntp.address }, { nodes: [ADDRESS], timeout: 10_000 });
    assert.equal(ntp.queries, asked + 1);
    assert.equal(c.messages[0]!.metadata?.hostname, ADDRESS);
    assert.equal(c.messages[0]!.server, ntp.address);
    await assert.rejects(client.time.timeCheck({ server: '' }, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.INVALID_ARGUMENT && e.details === 'ntp server is required');
    const bad = await client.time.timeCheck({ server: 'time.invalid' }, { nodes: [ADDRESS], timeout: 20_000 });
    assert.match(bad.messages[0]!.metadata!.error, /^rpc error: code = Unknown desc = error querying NTP server "time\.invalid": /);
  });

  it('bronzectl time prints both clocks per node, and --check names the server', { timeout: 30_000 }, async () => {
    const t = await cli('time');
    assert.equal(t.code, 0, t.stderr);
    const lines = t.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NODE +NTP-SERVER +NODE-TIME +NTP-SERVER-TIME$/);
    const row = lines[1]!.split(/ {2,}/);
    assert.deepEqual(row.slice(0, 2), [ADDRESS, ntp.address]);
    const [local, remote] = row.slice(2).map((s) => Date.parse(s.replace(' +0000 UTC', 'Z').replace(' ', 'T')));
    assert.ok(Math.abs(remote! - local! - HOUR) < 5000, row.join(' | '));
    const check = await cli('time', '--check', ntp.address, '-o', 'json');
    assert.equal(check.code, 0, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { node: string; server: string }).server, ntp.address);
    const empty = await cli('time', '--check', 'time.invalid');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error: node 127\.77\.9\.2: rpc error: code = Unknown desc = error querying NTP server "time\.invalid": lookup time\.invalid: /);
  });

  it('Disks and get disks show the disks of the sysfs tree (not the ram disk), with Talos fields', { timeout: 30_000 }, async () => {
    const d = await client.storage.disks({}, { nodes: [ADDRESS], timeout: 10_000 });
    assert.equal(d.messages.length, 1);
    assert.deepEqual(
      d.messages[0]!.disks.map((x) => [x.deviceName, x.size, x.serial, x.type, x.busPath, x.subsystem]),
      [['/dev/vda', '10737418240', 'BRONZE01', Disk_DiskType.HDD, '/pci0000:00/0000:00:05.0/virtio2', '/sys/class/block']],
    );
    const table = await cli('get', 'disks');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NODE +NAMESPACE +TYPE +ID +VERSION +SIZE +READ ONLY +TRANSPORT +ROTATIONAL +WWID +MODEL +SERIAL\n/);
    assert.match(table.stdout, new RegExp(`\\n${ADDRESS.replace(/\./g, '\\.')} +runtime +Disk +vda +\\d+ +11 GB +false +virtio +true +BRONZE01\\n?$`));
    const y = parseYAML((await cli('get', 'disk', 'vda', '-o', 'yaml')).stdout) as { metadata: { type: string; namespace: string }; spec: Record<string, unknown> };
    assert.equal(y.metadata.type, 'Disks.block.talos.dev');
    assert.equal(y.metadata.namespace, 'runtime');
    assert.deepEqual(y.spec, {
      dev_path: '/dev/vda',
      size: 10_737_418_240,
      pretty_size: '11 GB',
      io_size: 512,
      sector_size: 512,
      readonly: false,
      cdrom: false,
      serial: 'BRONZE01',
      bus_path: '/pci0000:00/0000:00:05.0/virtio2',
      sub_system: '/sys/class/block',
      transport: 'virtio',
      rotational: true,
      symlinks: ['/dev/disk/by-id/virtio-BRONZE01'],
    });
  });

  it('HealthCheck runs the checks on the control plane and streams them; bronzectl health prints them', { timeout: 120_000 }, async () => {
    // before bootstrap etcd is not up, and the wait ends as Talos's does
    const early = await cli('health', '--wait-timeout', '2s', '--skip', 'kubelet');
    assert.equal(early.code, 1);
    assert.match(early.stderr, /^discovered nodes: \["127\.77\.9\.2"\]\nwaiting for etcd to be healthy: \.\.\.\nwaiting for etcd to be healthy: 1 error occurred:\n\t\* 127\.77\.9\.2: service "etcd" not in expected state "Running": current state \[\w+\] /);
    assert.match(early.stderr, /\nerror: healthcheck error: rpc error: code = DeadlineExceeded desc = context deadline exceeded\n$/);

    const b = await client.machine.bootstrap({}, { timeout: 30_000 });
    assert.equal(b.messages.length, 1);
    const h = await cli('health', '--wait-timeout', '90s', '--skip', 'kubelet');
    assert.equal(h.code, 0, h.stderr);
    const lines = h.stderr.trimEnd().split('\n');
    assert.equal(lines[0], `discovered nodes: ["${ADDRESS}"]`);
    assert.deepEqual(lines.filter((l) => l.endsWith(': OK')), SERVER_HEALTH_OK_LINES);
    assert.deepEqual(
      lines.filter((l) => / SKIP$|SKIP \(/.test(l)),
      [
        'waiting for no diagnostics: SKIP',
        'waiting for kubelet to be healthy: SKIP (skipped on request)',
        'waiting for all k8s nodes to report: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for all control plane static pods to be running: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for all control plane components to be ready: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for all k8s nodes to report ready: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for kube-proxy to report ready: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for coredns to report ready: SKIP (Kubernetes checks are not run by Bronze nodes)',
        'waiting for all k8s nodes to report schedulable: SKIP (Kubernetes checks are not run by Bronze nodes)',
      ],
    );

    // the client-side path still runs the checks in bronzectl
    const local = await cli('health', '--server=false', '--wait-timeout', '30s', '--skip', 'kubelet');
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stderr, new RegExp(`^discovered nodes: control plane: ${ADDRESS.replace(/\./g, '\\.')}; worker: none\\n`));
    assert.match(local.stderr, /waiting for time to be synced: OK\n$/);

    // the kubelet, not skipped, is checked on the server too (its image cannot be pulled here, or it is healthy)
    const kubelet = await cli('health', '--wait-timeout', '3s');
    if (kubelet.code !== 0) assert.match(kubelet.stderr, /\nwaiting for kubelet to be healthy: 1 error occurred:\n\t\* 127\.77\.9\.2: (service "kubelet" not in expected state|service is not healthy: kubelet)/);
  });
});
