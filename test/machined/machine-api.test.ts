import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { SequenceEvent } from '../../src/api/gen/machine/machine.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { parseTalosconfig } from '../../src/client/talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { type RunningMachined, startMachined } from '../../src/machined/main.js';
import { stableHostname } from '../../src/controllers/network/hostname-config.js';
import { parse as parseYAML } from 'yaml';
import { freePort } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.7.2';
const cmd = (role: string) => [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), role];

const collect = async (stream: AsyncIterable<{ bytes: Uint8Array }>) => {
  const chunks: Buffer[] = [];
  for await (const d of stream) chunks.push(Buffer.from(d.bytes));
  return Buffer.concat(chunks);
};
const rpcError = (code: status, re: RegExp) => (e: unknown) => e instanceof RpcError && e.grpcCode === code && re.test(e.details);

/**
 * Every MachineService RPC machined implements, called over mTLS through apid on a control plane node of the process
 * platform, each answer checked against what the machine really has.
 */
describe('the MachineService of a process node, through apid', () => {
  let dir: string;
  let node: RunningMachined;
  let client: Client;
  let apiPort: number;
  let bundle: Awaited<ReturnType<typeof generateBundle>>;
  const ac = new AbortController();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-api-'));
    apiPort = await freePort(ADDRESS);
    bundle = await generateBundle({ clusterName: 'api', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    new ConfigStore(dir).write(Buffer.from(bundle.controlplane.toString()));
    node = await startMachined({ stateDir: dir, address: ADDRESS, apiPort, trustdPort: await freePort(ADDRESS), apidCommand: cmd('apid'), trustdCommand: cmd('trustd'), signal: ac.signal });
    client = new Client(clientOptionsFromContext(bundle.talosconfig.contexts.api!, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    await node.waitForLog('apid', 'apid serving', 30_000);
    await node.booted;
  });

  after(async () => {
    client?.close();
    ac.abort();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Version, Hostname: the build and the node name, one message each', async () => {
    const v = await client.machine.version({}, { timeout: 10_000 });
    assert.equal(v.messages.length, 1);
    assert.equal(v.messages[0]!.version!.os, 'linux');
    assert.equal(v.messages[0]!.version!.arch, process.arch === 'x64' ? 'amd64' : process.arch);
    assert.deepEqual(v.messages[0]!.platform, { name: 'process', mode: 'container' });
    assert.equal((await client.machine.hostname({}, { timeout: 10_000 })).messages[0]!.hostname, stableHostname((parseYAML(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId));
  });

  it('Memory, CPUInfo, CPUFreqStats, LoadAvg, SystemStat: what /proc says', async () => {
    const mem = (await client.machine.memory({}, { timeout: 10_000 })).messages[0]!.meminfo!;
    assert.equal(mem.memtotal, /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    const cpu = (await client.machine.cpuInfo({}, { timeout: 10_000 })).messages[0]!.cpuInfo;
    assert.equal(cpu.length, cpus().length);
    assert.equal(cpu[0]!.modelName, /^model name\s*: (.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '');
    assert.equal((await client.machine.cpuFreqStats({}, { timeout: 10_000 })).messages.length, 1);
    const load = (await client.machine.loadAvg({}, { timeout: 10_000 })).messages[0]!;
    assert.ok(load.load1 >= 0 && load.load15 >= 0);
    const stat = (await client.machine.systemStat({}, { timeout: 10_000 })).messages[0]!;
    assert.equal(stat.bootTime, /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  });

  it('Processes, Mounts, DiskStats, NetworkDeviceStats, Netstat: the live system', async () => {
    const procs = (await client.machine.processes({}, { timeout: 10_000 })).messages[0]!.processes;
    const self = procs.find((p) => p.pid === process.pid);
    assert.ok(self, 'machined (this process) is listed');
    assert.equal(self.executable, readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0')[0] === process.execPath ? process.execPath : self.executable);
    const mounts = (await client.machine.mounts({}, { timeout: 10_000 })).messages[0]!.stats;
    assert.ok(mounts.some((m) => m.mountedOn === '/'));
    assert.equal((await client.machine.diskStats({}, { timeout: 10_000 })).messages.length, 1);
    const net = (await client.machine.networkDeviceStats({}, { timeout: 10_000 })).messages[0]!;
    assert.ok(net.devices.some((d) => d.name === 'lo'));
    // apid listens on the node's address
    const ns = (await client.machine.netstat({ l4proto: { tcp: true }, filter: 2 }, { timeout: 10_000 })).messages[0]!.connectrecord;
    assert.ok(ns.some((r) => r.localip === ADDRESS && r.state === 10), JSON.stringify(ns.slice(0, 3)));
  });

  it('List, Read, Copy, DiskUsage: the node’s files', async () => {
    const names: string[] = [];
    for await (const f of client.machine.list({ root: dir }, { timeout: 10_000 })) names.push(f.relativeName);
    assert.ok(names.includes('config.yaml') && names.includes('machined'), names.join(' '));
    const text = await collect(client.machine.read({ path: join(dir, 'config.yaml') }, { timeout: 10_000 }));
    assert.deepEqual(text, readFileSync(join(dir, 'config.yaml')));
    const tree = join(dir, 'var', 'tree');
    execFileSync('mkdir', ['-p', join(tree, 'sub')]);
    writeFileSync(join(tree, 'a.txt'), 'alpha\n');
    writeFileSync(join(tree, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
    writeFileSync(join(dir, 'copy.tgz'), await collect(client.machine.copy({ rootPath: tree }, { timeout: 10_000 })));
    assert.deepEqual(execFileSync('tar', ['tzf', join(dir, 'copy.tgz')], { encoding: 'utf8' }).trim().split('\n').sort(), ['a.txt', 'sub/', 'sub/b.bin']);
    const usage: Record<string, string> = {};
    for await (const u of client.machine.diskUsage({ paths: [tree], all: true, recursionDepth: 0, threshold: '0' }, { timeout: 10_000 })) usage[u.relativeName || u.name] = u.size;
    assert.equal(usage['sub/b.bin'], String(statSync(join(tree, 'sub', 'b.bin')).size));
  });

  it('Logs, LogsContainers, Events: machined’s own log, the services’ logs, the boot’s events', async () => {
    const ids = (await client.machine.logsContainers({}, { timeout: 10_000 })).messages[0]!.ids;
    assert.ok(['apid', 'machined', 'trustd'].every((id) => ids.includes(id)), ids.join(' '));
    const machinedLog = (await collect(client.machine.logs({ namespace: 'system', id: 'machined', tailLines: -1 }, { timeout: 10_000 }))).toString();
    assert.match(machinedLog, /boot sequence: done/);
    const tail = (await collect(client.machine.logs({ namespace: 'system', id: 'apid', tailLines: 1 }, { timeout: 10_000 }))).toString();
    assert.equal(tail.split('\n').filter(Boolean).length, 1);
    const sequences: string[] = [];
    const events = new AbortController();
    for await (const e of client.machine.events({ tailEvents: -1 }, { signal: events.signal, timeout: 10_000 })) {
      if (e.data?.typeUrl.endsWith('machine.SequenceEvent')) {
        const s = SequenceEvent.decode(e.data.value);
        sequences.push(`${s.sequence}:${s.action}`);
        if (s.sequence === 'boot' && s.action === 2) break;
      }
    }
    events.abort();
    assert.deepEqual(sequences, ['initialize:1', 'initialize:2', 'boot:1', 'boot:2']);
  });

  it('ServiceList, ServiceStart/Stop/Restart: Talos’s rules', async () => {
    const services = (await client.machine.serviceList({}, { timeout: 10_000 })).messages[0]!.services;
    assert.deepEqual(services.map((s) => s.id), ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd', 'udevd']);
    await assert.rejects(client.machine.serviceStop({ id: 'apid' }, { timeout: 10_000 }), /doesn't support stop operation via API/);
    await assert.rejects(client.machine.serviceStart({ id: 'nope' }, { timeout: 10_000 }), /service "nope" not defined/);
  });

  it('GenerateClientConfiguration: a talosconfig whose certificate carries the roles asked for', async () => {
    const r = (await client.machine.generateClientConfiguration({ roles: ['os:reader'], crtTtl: { seconds: '3600', nanos: 0 } }, { timeout: 10_000 })).messages[0]!;
    const crt = new X509Certificate(Buffer.from(r.crt));
    assert.ok(crt.verify(new X509Certificate(Buffer.from(r.ca)).publicKey));
    assert.equal(crt.subject, 'O=os:reader');
    assert.ok(Math.abs(Date.parse(crt.validTo) - Date.now() - 3_600_000) < 120_000);
    const tc = parseTalosconfig(Buffer.from(r.talosconfig).toString());
    assert.equal(tc.context, 'reader@api');
    // the reader may read, and is refused what only admins may do
    const reader = new Client(clientOptionsFromContext(tc.contexts['reader@api']!, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    try {
      assert.equal((await reader.machine.version({}, { timeout: 10_000 })).messages.length, 1);
      await assert.rejects(reader.machine.reboot({ mode: 0 }, { timeout: 10_000 }), rpcError(status.PERMISSION_DENIED, /not authorized/));
    } finally {
      reader.close();
    }
    await assert.rejects(client.machine.generateClientConfiguration({ roles: ['os:admin'], crtTtl: { seconds: '0', nanos: 0 } }, { timeout: 10_000 }), rpcError(status.INVALID_ARGUMENT, /^crt_ttl should be positive$/));
    const two = parseTalosconfig(Buffer.from((await client.machine.generateClientConfiguration({ roles: ['os:reader', 'os:operator'], crtTtl: { seconds: '60', nanos: 0 } }, { timeout: 10_000 })).messages[0]!.talosconfig).toString());
    assert.equal(two.context, 'api');
  });

  it('Kubeconfig: one gzip’d tar holding an admin kubeconfig signed by the cluster CA', async () => {
    const parts: Buffer[] = [];
    for await (const d of client.machine.kubeconfig({}, { timeout: 10_000 })) parts.push(Buffer.from(d.bytes));
    assert.equal(parts.length, 1);
    writeFileSync(join(dir, 'kc.tgz'), parts[0]!);
    assert.match(execFileSync('tar', ['tzvf', join(dir, 'kc.tgz')], { encoding: 'utf8' }), /^-rw------- .* kubeconfig\n$/);
    const kc = parseYAML(execFileSync('tar', ['xzOf', join(dir, 'kc.tgz'), 'kubeconfig'], { encoding: 'utf8' })) as {
      clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { name: string; user: { 'client-certificate-data': string } }[];
      'current-context': string;
    };
    assert.equal(kc['current-context'], 'admin@api');
    assert.deepEqual(kc.clusters.map((c) => [c.name, c.cluster.server]), [['api', `https://${ADDRESS}:6443`]]);
    const k8sCA = Buffer.from((bundle.controlplane.v1alpha1!.cluster as { ca: { crt: string } }).ca.crt, 'base64');
    assert.deepEqual(Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'), k8sCA);
    const crt = new X509Certificate(Buffer.from(kc.users[0]!.user['client-certificate-data'], 'base64'));
    assert.ok(crt.verify(new X509Certificate(k8sCA).publicKey));
    assert.equal(crt.subject, 'O=system:masters\nCN=admin');
  });

  it('MetaWrite, MetaDelete: META in the state directory, mirrored as MetaKeys', async () => {
    assert.equal((await client.machine.metaWrite({ key: 0x0c, value: Buffer.from('hello') }, { timeout: 10_000 })).messages.length, 1);
    const r = await client.cosi.get({ namespace: 'runtime', type: 'MetaKeys.runtime.talos.dev', id: '0x0c' }, { timeout: 10_000 });
    assert.equal(r.resource!.spec!.yamlSpec, 'value: hello\n');
    assert.equal(statSync(join(dir, 'META')).size, 512 * 1024);
    await client.machine.metaDelete({ key: 0x0c }, { timeout: 10_000 });
    await node.state.watchFor({ namespace: 'runtime', type: 'MetaKeys.runtime.talos.dev', id: '0x0c' }, (x) => x === undefined);
    await assert.rejects(client.machine.metaDelete({ key: 0x0c }, { timeout: 10_000 }), rpcError(status.NOT_FOUND, /^meta key not found$/));
    await assert.rejects(client.machine.metaWrite({ key: 300, value: Buffer.from('x') }, { timeout: 10_000 }), rpcError(status.INVALID_ARGUMENT, /^key must be a uint8$/));
  });

  it('Dmesg answers Unimplemented on a process node; etcd calls fail until etcd is bootstrapped', async () => {
    await assert.rejects(collect(client.machine.dmesg({}, { timeout: 10_000 })), rpcError(status.UNIMPLEMENTED, /kernel log is not available/));
    // etcd is not bootstrapped on this node: the members cannot be listed
    await assert.rejects(client.machine.etcdMemberList({}, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode !== status.UNIMPLEMENTED);
  });
});
