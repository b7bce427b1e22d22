import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConnectRecord_State, NetstatRequest_Filter } from '../../api/gen/machine/machine.js';
import {
  formatIPv6,
  msBeforeTimeOrigin,
  parseCPUInfo,
  parseDiskStats,
  parseLoadAvg,
  parseMemInfo,
  parseNetDev,
  parseSocketAddress,
  parseStatLine,
  parseSystemStat,
  readBootID,
  readCPUFreqStats,
  readCPUInfo,
  readDiskStats,
  readLoadAvg,
  readMemInfo,
  readMounts,
  readNetDev,
  readNetstat,
  readProcess,
  readProcesses,
  readSystemStat,
} from './index.js';
import { parseMounts } from './mounts.js';

const fixtures = fileURLToPath(new URL('./testdata/proc', import.meta.url));
const fixture = (name: string) => readFileSync(`${fixtures}/${name}`, 'utf8');

/** The value of one /proc/meminfo key, read independently of the parser. */
function meminfoValue(key: string): string {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  assert.ok(line, `${key} in /proc/meminfo`);
  return line.split(/\s+/)[1];
}

describe('meminfo', () => {
  test('all 48 fields from a fixture, in kB, including values above 2^53', () => {
    const m = parseMemInfo(fixture('meminfo'));
    assert.equal(Object.keys(m).length, 48);
    assert.equal(m.memtotal, '16384000');
    assert.equal(m.activeanon, '8008');
    assert.equal(m.inactivefile, '11011');
    assert.equal(m.nfsunstable, '26026');
    assert.equal(m.committedas, '30030');
    assert.equal(m.vmalloctotal, '34359738367');
    assert.equal(m.hardwarecorrupted, '35');
    assert.equal(m.hugepagestotal, '41');
    assert.equal(m.hugepagessurp, '44');
    assert.equal(m.hugepagesize, '2048');
    assert.equal(m.directmap2m, '47047047');
    assert.equal(m.directmap1g, '18446744073709551615');
    // every field of the fixture is non-zero: nothing was left unmapped
    for (const [k, v] of Object.entries(m)) assert.notEqual(v, '0', k);
  });

  test('matches /proc/meminfo on this machine', async () => {
    const m = await readMemInfo();
    assert.equal(m.memtotal, meminfoValue('MemTotal'));
    assert.equal(m.swaptotal, meminfoValue('SwapTotal'));
    assert.equal(m.vmalloctotal, meminfoValue('VmallocTotal'));
    assert.equal(m.hugepagesize, meminfoValue('Hugepagesize'));
    assert.equal(m.committedas.length > 0, true);
  });

  test('a malformed value names the key', () => {
    assert.throws(() => parseMemInfo('MemTotal: lots kB\n'), { code: 'BRONZE_SYS_PARSE', message: /MemTotal/ });
  });
});

describe('cpuinfo', () => {
  test('matches /proc/cpuinfo on this machine', async () => {
    const cpus = await readCPUInfo();
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    assert.equal(cpus.length, (text.match(/^processor\s*:/gm) ?? []).length);
    assert.deepEqual(
      cpus.map((c) => c.processor),
      cpus.map((_, i) => i),
    );
    const model = /^model name\s*:\s*(.*)$/m.exec(text);
    if (model) assert.equal(cpus[0].modelName, model[1]);
    const flags = /^flags\s*:\s*(.*)$/m.exec(text);
    if (flags) assert.deepEqual(cpus[0].flags, flags[1].split(/\s+/).filter(Boolean));
  });

  test('arm64 layout', () => {
    const cpus = parseCPUInfo(fixture('cpuinfo-arm64'));
    assert.equal(cpus.length, 2);
    assert.equal(cpus[1].processor, 1);
    assert.equal(cpus[0].vendorId, '0x41');
    assert.equal(cpus[0].cpuFamily, '8');
    assert.equal(cpus[0].bogoMips, 50);
    assert.deepEqual(cpus[1].flags, ['fp', 'asimd']);
  });
});

describe('stat', () => {
  test('fixture: seconds, per-CPU gaps, irqs, softirqs', () => {
    const s = parseSystemStat(fixture('stat'));
    assert.equal(s.cpuTotal?.user, 1280.08);
    assert.equal(s.cpuTotal?.guestNice, 0.01);
    assert.equal(s.cpu.length, 3);
    assert.equal(s.cpu[1].user, 0); // cpu1 offline
    assert.equal(s.cpu[2].softIrq, 1.97);
    assert.equal(s.irqTotal, '1650654');
    assert.deepEqual(s.irq, ['0', '13', '1212', '18446744073709551615']);
    assert.equal(s.bootTime, '1700000000');
    assert.equal(s.contextSwitches, '3790449');
    assert.equal(s.processCreated, '32300');
    assert.equal(s.processRunning, '3');
    assert.equal(s.processBlocked, '1');
    assert.equal(s.softIrqTotal, '900');
    assert.deepEqual(s.softIrq, { hi: '1', timer: '2', netTx: '3', netRx: '4', block: '5', blockIoPoll: '6', tasklet: '7', sched: '8', hrtimer: '9', rcu: '855' });
  });

  test('matches /proc/stat on this machine', async () => {
    const s = await readSystemStat();
    const text = readFileSync('/proc/stat', 'utf8');
    assert.equal(s.bootTime, /^btime (\d+)$/m.exec(text)?.[1]);
    assert.equal(s.cpu.length, (text.match(/^cpu\d+ /gm) ?? []).length);
    assert.ok(Number(s.softIrqTotal) > 0);
  });
});

test('loadavg', async () => {
  assert.deepEqual(parseLoadAvg('0.84 1.09 0.80 1/87 32254\n'), { load1: 0.84, load5: 1.09, load15: 0.8 });
  const l = await readLoadAvg();
  assert.ok(l.load1 >= 0 && l.load15 >= 0);
  assert.throws(() => parseLoadAvg('x'), { code: 'BRONZE_SYS_PARSE' });
});

test('diskstats: devices with discard fields and their total', async () => {
  const d = parseDiskStats(fixture('diskstats'));
  assert.deepEqual(
    d.devices.map((x) => x.name),
    ['loop0', 'nvme0n1'],
  );
  assert.equal(d.devices[1].discardTimeMs, '1500');
  assert.equal(d.total.readCompleted, '101');
  assert.equal(d.total.ioTimeWeightedMs, '1111');
  const real = await readDiskStats();
  const lines = readFileSync('/proc/diskstats', 'utf8').split('\n').filter((l) => l.trim().split(/\s+/).length >= 18);
  assert.equal(real.devices.length, lines.length);
});

test('net/dev: devices in file order and a total', async () => {
  const n = parseNetDev(fixture('net/dev'));
  assert.deepEqual(
    n.devices.map((d) => d.name),
    ['lo', 'eth0'],
  );
  assert.equal(n.devices[1].rxErrors, '1');
  assert.equal(n.devices[1].txCompressed, '12');
  assert.equal(n.total.name, 'total');
  assert.equal(n.total.rxBytes, '1371969242');
  const real = await readNetDev();
  assert.ok(real.devices.some((d) => d.name === 'lo'));
});

test('cpufreq: empty list without cpufreq, sorted CPUs otherwise', async () => {
  assert.deepEqual(await readCPUFreqStats(fixtures), []);
  const real = await readCPUFreqStats();
  assert.ok(Array.isArray(real));
});

test('boot id is a UUID and matches the kernel file', async () => {
  const id = await readBootID();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(id, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
});

describe('processes', () => {
  test('stat line with parentheses and spaces in the command', () => {
    const st = parseStatLine(fixture('4242/stat'));
    assert.equal(st.comm, 'my (odd) cmd');
    assert.equal(st.state, 'S');
    assert.equal(st.threads, 3);
    assert.equal(st.starttime, 100);
  });

  test('time before the time origin: uptime minus the start, minus performance.now()', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-proc-'));
    try {
      mkdirSync(join(dir, 'self'));
      writeFileSync(join(dir, 'uptime'), '12.50 3.00\n');
      writeFileSync(join(dir, 'self', 'stat'), fixture('4242/stat').replace(' 0 100 123456789 ', ' 0 1000 123456789 '));
      // started at 10.00 s, read at 12.50 s, 400 ms after the time origin
      assert.equal(msBeforeTimeOrigin(dir, 400), 2100);
      assert.equal(msBeforeTimeOrigin(join(dir, 'missing'), 400), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const real = msBeforeTimeOrigin();
    assert.ok(real !== undefined && real >= 0 && real < 5000, `ms before the time origin: ${real}`);
  });

  test('fixture tree: vanished pids are skipped, fields decoded', async () => {
    const procs = await readProcesses(fixtures);
    assert.deepEqual(
      procs.map((p) => p.pid),
      [77, 4242],
    ); // 4243 has no stat: it vanished mid-read
    const p = procs[1];
    assert.equal(p.command, 'my (odd) cmd');
    assert.equal(p.args, '/usr/bin/odd --flag value with space');
    assert.equal(p.cpuTime, 3);
    assert.equal(p.virtualMemory, '123456789');
    assert.equal(p.residentMemory, String(300 * 4096));
    assert.equal(p.label, 'system_u:system_r:init_t:s0');
    assert.equal(p.executable, '');
    assert.equal(procs[0].ppid, 0);
  });

  test('a command line larger than the read buffer is read whole, and the reads after it still right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-procfs-'));
    try {
      const long = Array.from({ length: 12_000 }, (_, i) => `--arg${i}`);
      for (const [pid, args] of [[10, ['/bin/long', ...long]], [11, ['/bin/short', '-x']]] as const) {
        mkdirSync(join(dir, String(pid)));
        writeFileSync(join(dir, String(pid), 'stat'), fixture('4242/stat').replace(/^4242 /, `${pid} `));
        writeFileSync(join(dir, String(pid), 'cmdline'), `${args.join('\0')}\0`);
      }
      const procs = await readProcesses(dir);
      assert.deepEqual(procs.map((p) => p.pid), [10, 11]);
      assert.ok(procs[0]!.args.length > 100_000);
      assert.equal(procs[0]!.args, ['/bin/long', ...long].join(' '));
      assert.equal(procs[1]!.args, '/bin/short -x');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('this process as /proc shows it', async () => {
    const me = await readProcess(process.pid);
    assert.ok(me);
    assert.equal(me.ppid, process.ppid);
    assert.equal(me.executable, realpathSync(process.execPath));
    assert.equal(me.args, readFileSync('/proc/self/cmdline', 'utf8').replace(/\0+$/, '').replaceAll('\0', ' '));
    assert.ok(me.threads >= 1);
    assert.ok(BigInt(me.residentMemory) > 0n);
    const all = await readProcesses();
    assert.ok(all.some((p) => p.pid === process.pid));
    assert.ok(all.some((p) => p.pid === 1));
  });

  test('a child that exited and was reaped reads as vanished', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid!;
    const alive = await readProcess(pid);
    assert.equal(alive?.ppid, process.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(await readProcess(pid), undefined);
  });
});

describe('mounts', () => {
  test('octal escapes in mount points', () => {
    assert.deepEqual(parseMounts('/dev/sda1 /mnt/with\\040space ext4 rw 0 0\n'), [{ filesystem: '/dev/sda1', mountedOn: '/mnt/with space', type: 'ext4', options: 'rw' }]);
  });

  test('sizes from statfs', async () => {
    const { stats } = await readMounts();
    const root = stats.find((s) => s.mountedOn === '/');
    assert.ok(root);
    const sfs = statfsSync('/', { bigint: true });
    assert.equal(root.size, (sfs.bsize * sfs.blocks).toString());
    assert.ok(stats.some((s) => s.mountedOn === '/proc' && s.filesystem === 'proc'));
  });
});

describe('netstat', () => {
  test('IPv6 formatting as Go prints it', () => {
    const b = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
    assert.equal(formatIPv6(b('00000000000000000000000000000000')), '::');
    assert.equal(formatIPv6(b('00000000000000000000000000000001')), '::1');
    assert.equal(formatIPv6(b('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
    assert.equal(formatIPv6(b('20010db8000100000000000000000001')), '2001:db8:1::1');
    assert.equal(formatIPv6(b('20010db8000000010001000100010001')), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIPv6(b('00000000000000000000ffffc0a80001')), '192.168.0.1');
    assert.equal(formatIPv6(b('fe800000000000000000000000000000')), 'fe80::');
  });

  test('fixture tables', async () => {
    assert.deepEqual(parseSocketAddress('0100007F:1F90'), { ip: '127.0.0.1', port: 8080 });
    const recs = await readNetstat({ proc: fixtures, tables: ['tcp', 'tcp6', 'udp'] });
    assert.equal(recs.length, 5);
    const [listen, conn] = recs;
    assert.equal(listen.state, ConnectRecord_State.LISTEN);
    assert.equal(listen.uid, 1000);
    assert.equal(listen.inode, '650');
    assert.equal(listen.pointer, BigInt('0xffff8881005d9a76').toString());
    assert.equal(conn.state, ConnectRecord_State.ESTABLISHED);
    assert.equal(conn.txqueue, '10');
    assert.equal(conn.rxqueue, '2');
    assert.equal(conn.tr, 2);
    assert.equal(conn.timerwhen, String(0xafc80));
    assert.equal(conn.retrnsmt, '3');
    assert.equal(conn.remoteport, 8080);
    assert.deepEqual(
      recs.slice(2).map((r) => `${r.l4proto} ${r.localip}:${r.localport} ${r.remoteip}:${r.remoteport}`),
      ['tcp6 ::1:22 :::0', 'tcp6 127.0.0.1:80 127.0.0.2:49152', 'tcp6 2001:db8::1:80 :::0'],
    );
    const listening = await readNetstat({ proc: fixtures, tables: ['tcp', 'tcp6'], filter: NetstatRequest_Filter.LISTENING });
    assert.deepEqual(
      listening.map((r) => r.inode),
      ['650', '700', '702'],
    );
    const connected = await readNetstat({ proc: fixtures, tables: ['tcp', 'tcp6'], filter: NetstatRequest_Filter.CONNECTED });
    assert.deepEqual(
      connected.map((r) => r.inode),
      ['651', '701'],
    );
  });

  test('a real listener and connection, mapped to this process', async () => {
    const server: Server = createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client: Socket = connect(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      const listening = await readNetstat({ tables: ['tcp'], filter: NetstatRequest_Filter.LISTENING, pid: true });
      const l = listening.find((r) => r.localport === port);
      assert.ok(l, 'listener found');
      assert.equal(l.localip, '127.0.0.1');
      assert.equal(l.process?.pid, process.pid);
      assert.equal(l.process?.name, readFileSync('/proc/self/comm', 'utf8').trim());
      const connected = await readNetstat({ tables: ['tcp'], filter: NetstatRequest_Filter.CONNECTED, pid: true });
      const c = connected.find((r) => r.remoteport === port && r.localport === client.localPort);
      assert.ok(c, 'client side found');
      assert.equal(c.state, ConnectRecord_State.ESTABLISHED);
      assert.equal(c.process?.pid, process.pid);
    } finally {
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('named network namespaces: sockets of a process in the namespace, tagged with its name', async (t) => {
    const name = `bronze-ns-${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    } catch {
      return t.skip('cannot create network namespaces here');
    }
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', "require('net').createServer().listen(4567, '0.0.0.0', () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(child.stdout!, 'data');
      const recs = await readNetstat({ tables: ['tcp'], filter: NetstatRequest_Filter.LISTENING, hostNetwork: false, netns: [name], pid: true });
      const l = recs.find((r) => r.localport === 4567);
      assert.ok(l, JSON.stringify(recs));
      assert.equal(l.netns, name);
      assert.equal(l.process?.name, 'node');
      const all = await readNetstat({ tables: ['tcp'], allNetns: true, hostNetwork: false });
      assert.ok(all.some((r) => r.localport === 4567 && r.netns === name));
      const host = await readNetstat({ tables: ['tcp'], filter: NetstatRequest_Filter.LISTENING });
      assert.ok(!host.some((r) => r.localport === 4567 && r.netns === ''), 'not in the host namespace');
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
      execFileSync('ip', ['netns', 'delete', name]);
    }
  });
});
