import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import pino from 'pino';
import { MachineServiceService, SequenceEvent, SequenceEvent_Action } from '../../src/api/gen/machine/machine.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { machineService } from '../../src/machined/api/machine-service.js';
import { EventStream } from '../../src/machined/events/index.js';
import { LogManager } from '../../src/machined/logs/index.js';
import { readKmsg } from '../../src/sys/kmsg.js';
import { buildInfo } from '../../src/version.js';

/** machined's MachineService on a unix socket, called through the client library. */
describe('MachineService on machined', () => {
  let dir: string;
  let server: Server;
  let client: Client;
  const logs = new LogManager();
  const events = new EventStream();
  const asked: unknown[] = [];
  async function* containerLogs(req: unknown) {
    asked.push(req);
    yield Buffer.from('2026-12-05T10:00:00.000000000Z stdout F hello\n');
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-ms-'));
    logs.serviceLog('apid').write('one\ntwo\nthree\n');
    logs.serviceLog('kubelet').write('kubelet started\n');
    server = new Server();
    server.addService(MachineServiceService, machineService({ logger: pino({ level: 'silent' }), build: buildInfo(), platform: { name: 'process', mode: 'container' }, configured: () => true, hostname: async () => 'cp-1', logs, events, containerLogs }));
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${join(dir, 'machine.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    client = new Client({ endpoints: [`unix://${join(dir, 'machine.sock')}`], tls: {} });
  });

  after(async () => {
    client.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    await logs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers Version, Hostname and the /proc readers with exactly one message each', async () => {
    const v = await client.machine.version();
    assert.equal(v.messages.length, 1);
    assert.equal(v.messages[0]!.version!.tag, buildInfo().tag);
    assert.deepEqual(v.messages[0]!.platform, { name: 'process', mode: 'container' });
    assert.equal(v.messages[0]!.features!.rbac, true);
    assert.equal((await client.machine.hostname()).messages[0]!.hostname, 'cp-1');
    const mem = await client.machine.memory();
    const memTotal = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1];
    assert.equal(mem.messages[0]!.meminfo!.memtotal, memTotal);
    const cpu = await client.machine.cpuInfo();
    assert.equal(cpu.messages[0]!.cpuInfo.length, cpus().length);
    for (const call of [client.machine.loadAvg, client.machine.systemStat, client.machine.processes, client.machine.mounts, client.machine.diskStats, client.machine.networkDeviceStats]) {
      assert.equal((await call()).messages.length, 1);
    }
    const procs = await client.machine.processes();
    assert.ok(procs.messages[0]!.processes.some((p) => p.pid === process.pid));
    const ns = await client.machine.netstat({ l4proto: { tcp: true, tcp6: true } });
    assert.equal(ns.messages.length, 1);
  });

  it('reads, lists and copies files', async () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    writeFileSync(join(root, 'sub', 'b.txt'), 'x'.repeat(5000));
    const chunks: Buffer[] = [];
    for await (const d of client.machine.read({ path: join(root, 'sub', 'b.txt') })) chunks.push(Buffer.from(d.bytes));
    assert.equal(Buffer.concat(chunks).toString(), 'x'.repeat(5000));
    await assert.rejects(async () => {
      for await (const _ of client.machine.read({ path: join(root, 'missing') }));
    }, (e: unknown) => e instanceof RpcError && e.grpcCode === status.NOT_FOUND && /no such file or directory/.test(e.details));
    const names: string[] = [];
    for await (const f of client.machine.list({ root, recurse: true })) names.push(f.relativeName);
    assert.deepEqual(names, ['.', 'a.txt', 'sub', 'sub/b.txt']);
    const tgz: Buffer[] = [];
    for await (const d of client.machine.copy({ rootPath: root })) tgz.push(Buffer.from(d.bytes));
    writeFileSync(join(dir, 'copy.tar.gz'), Buffer.concat(tgz));
    assert.deepEqual(execFileSync('tar', ['tzf', join(dir, 'copy.tar.gz')], { encoding: 'utf8' }).trim().split('\n').sort(), ['a.txt', 'sub/', 'sub/b.txt']);
  });

  it('serves service logs with a tail, and names unknown ones', async () => {
    const got: string[] = [];
    for await (const d of client.machine.logs({ namespace: 'system', id: 'apid', tailLines: 2 })) got.push(Buffer.from(d.bytes).toString());
    assert.equal(got.join(''), 'two\nthree\n');
    assert.deepEqual((await client.machine.logsContainers()).messages[0]!.ids, ['apid', 'kubelet']);
    await assert.rejects(async () => {
      for await (const _ of client.machine.logs({ namespace: 'system', id: 'nope' }));
    }, (e: unknown) => e instanceof RpcError && e.grpcCode === status.NOT_FOUND);
  });

  it('serves the kubelet from its service log, and other Kubernetes containers from their own logs', async () => {
    const text = async (req: Parameters<typeof client.machine.logs>[0]) => {
      let out = '';
      for await (const d of client.machine.logs(req)) out += Buffer.from(d.bytes).toString();
      return out;
    };
    assert.equal(await text({ namespace: 'k8s.io', driver: 1, id: 'kubelet', tailLines: -1 }), 'kubelet started\n');
    assert.deepEqual(asked, []);
    assert.equal(await text({ namespace: 'k8s.io', driver: 1, id: 'edge/web:app', tailLines: 3, follow: false }), '2026-12-05T10:00:00.000000000Z stdout F hello\n');
    assert.deepEqual(asked, [{ namespace: 'k8s.io', driver: 1, id: 'edge/web:app', tailLines: 3, follow: false }]);
  });

  it('streams events after the hello message', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const stream = client.machine.events({ tailEvents: 0 }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    const hello = await it.next();
    assert.equal(hello.value!.data!.typeUrl, '');
    events.publish('machine.SequenceEvent', SequenceEvent.fromPartial({ sequence: 'boot', action: SequenceEvent_Action.START }), 'actor-1');
    const ev = await it.next();
    seen.push(ev.value!.data!.typeUrl);
    assert.equal(ev.value!.actorId, 'actor-1');
    assert.equal(ev.value!.id.length, 20);
    ac.abort();
    assert.deepEqual(seen, ['talos/runtime/machine.SequenceEvent']);
    assert.equal(SequenceEvent.decode(ev.value!.data!.value).sequence, 'boot');
  });

  it('answers what it cannot do yet with Unimplemented naming the missing part', async () => {
    await assert.rejects(client.machine.etcdMemberList(), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNIMPLEMENTED && /EtcdMemberList is not implemented/.test(e.details));
    await assert.rejects(async () => {
      for await (const _ of client.machine.dmesg({}));
    }, (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNIMPLEMENTED && /kernel log is not available/.test(e.details));
  });
});

const kmsgUnreadable = (() => {
  try {
    closeSync(openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK));
    return undefined;
  } catch (e) {
    return `/dev/kmsg cannot be read here: ${(e as Error).message}`;
  }
})();

/** Dmesg as machined serves it on metal: the kernel's log from /dev/kmsg, one formatted record per message. */
describe('Dmesg from /dev/kmsg', { skip: kmsgUnreadable }, () => {
  let dir: string;
  let server: Server;
  let client: Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-dmesg-'));
    server = new Server();
    server.addService(
      MachineServiceService,
      machineService({
        logger: pino({ level: 'silent' }),
        build: buildInfo(),
        platform: { name: 'metal', mode: 'metal' },
        configured: () => true,
        logs: new LogManager(),
        events: new EventStream(),
        dmesg: (req, signal) => readKmsg({ follow: req.follow, tail: req.tail, signal }),
      }),
    );
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${join(dir, 'machine.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    client = new Client({ endpoints: [`unix://${join(dir, 'machine.sock')}`], tls: {} });
  });

  after(async () => {
    client.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the kernel log as Talos formats it', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    for await (const d of client.machine.dmesg({ follow: false, tail: false }, { timeout: 20_000 })) lines.push(Buffer.from(d.bytes).toString());
    assert.ok(lines.length > 0, 'the kernel has logged something since boot');
    assert.match(lines[0]!, /^[a-z0-9]+: {0,6}[a-z]+: \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\]: /);
    // following from the end ends when the caller cancels
    const ac = new AbortController();
    const follow = (async () => {
      for await (const _ of client.machine.dmesg({ follow: true, tail: true }, { signal: ac.signal }));
    })().catch(() => undefined);
    ac.abort();
    await follow;
  });
});
