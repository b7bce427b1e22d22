import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { run } from '../cli/main.js';
import { KernelCmdline, parseIPSetting } from '../platform/cmdline.js';
import { ProvisionError } from './process.js';
import { answer, responseBytes } from './qemu-config-http.js';
import {
  CLUSTER_LINK,
  clusterNetwork,
  configServerCommand,
  createQemuCluster,
  isClusterProcess,
  macAddress,
  nodeCmdline,
  parseArch,
  parseCpus,
  parseMemory,
  pickMulticast,
  qemuArgs,
  shellWord,
  USER_LINK,
  type VMSpec,
} from './qemu.js';

/** Asserts that `fn` throws a flag error whose message starts with `--<flag>:`. */
function throwsFlag(fn: () => unknown, flag: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProvisionError, String(e));
    assert.equal(e.code, 'BRONZE_PROVISION_FLAG');
    assert.ok(e.message.startsWith(`--${flag}:`), e.message);
    return true;
  });
}

describe('qemu provisioner flags', () => {
  it('--memory takes MiB, or a size with a unit; too little or not a size is refused', () => {
    assert.equal(parseMemory('memory', '2048'), 2048);
    assert.equal(parseMemory('memory', '2GiB'), 2048);
    assert.equal(parseMemory('memory', '2.0GiB'), 2048);
    assert.equal(parseMemory('memory', '1536MiB'), 1536);
    assert.equal(parseMemory('memory', '4096MB'), 3906);
    for (const bad of ['', 'lots', '-1', '2 TiB', '100']) throwsFlag(() => parseMemory('memory', bad), 'memory');
    throwsFlag(() => parseMemory('memory-workers', '64'), 'memory-workers');
  });

  it('--cpus takes a positive number, rounded to whole CPUs (talosctl takes fractions)', () => {
    assert.equal(parseCpus('cpus', '2'), 2);
    assert.equal(parseCpus('cpus', '2.0'), 2);
    assert.equal(parseCpus('cpus', '0.5'), 1);
    assert.equal(parseCpus('cpus', '2.6'), 3);
    for (const bad of ['0', '0.0', '-2', 'two', '', '65']) throwsFlag(() => parseCpus('cpus', bad), 'cpus');
    throwsFlag(() => parseCpus('cpus-workers', 'x'), 'cpus-workers');
  });

  it('--arch is amd64 or arm64', () => {
    assert.equal(parseArch('amd64'), 'amd64');
    assert.equal(parseArch('arm64'), 'arm64');
    throwsFlag(() => parseArch('x86_64'), 'arch');
  });

  it('--cidr: nodes from .2 on, with the netmask of the range', () => {
    assert.deepEqual(clusterNetwork('10.5.0.0/24', 3), { addresses: ['10.5.0.2', '10.5.0.3', '10.5.0.4'], netmask: '255.255.255.0', prefix: 24 });
    assert.deepEqual(clusterNetwork('192.168.77.9/28', 2), { addresses: ['192.168.77.2', '192.168.77.3'], netmask: '255.255.255.240', prefix: 28 });
    assert.deepEqual(clusterNetwork('172.16.0.0/12', 1).netmask, '255.240.0.0');
  });

  const badCIDRs: [string, string, number][] = [
    ['not a CIDR', 'ten', 1],
    ['an octet out of range', '10.5.300.0/24', 1],
    ['no room for a gateway and a node', '10.5.0.0/31', 1],
    ['no room for three nodes', '10.5.0.0/30', 3],
    ['loopback', '127.65.0.0/24', 2],
    ['multicast', '239.1.0.0/24', 2],
    ['"this network"', '0.0.0.0/24', 2],
    ["QEMU's user network", '10.0.2.0/24', 2],
    ["a range around QEMU's user network", '10.0.0.0/16', 2],
    ["a range inside QEMU's user network", '10.0.2.128/25', 2],
  ];
  for (const [what, cidr, count] of badCIDRs) {
    it(`--cidr refuses ${what} (${cidr})`, () => throwsFlag(() => clusterNetwork(cidr, count), 'cidr'));
  }

  it('create checks the image paths before it makes anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-qemu-unit-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const base = {
      name: 'c',
      stateDir: join(dir, 'state'),
      cidr: '10.5.0.0/24',
      controlplanes: 1,
      workers: 1,
      talosconfig: join(dir, 'talosconfig'),
      arch: 'amd64' as const,
      controlplane: { memoryMiB: 2048, cpus: 2 },
      worker: { memoryMiB: 2048, cpus: 2 },
    };
    const kernel = join(dir, 'vmlinuz');
    writeFileSync(kernel, '');
    await assert.rejects(createQemuCluster({ ...base, vmlinuzPath: join(dir, 'missing'), initrdPath: kernel }), /^ProvisionError: --vmlinuz-path: .*missing does not exist/);
    await assert.rejects(createQemuCluster({ ...base, vmlinuzPath: kernel, initrdPath: join(dir, 'missing.xz') }), /^ProvisionError: --initrd-path: /);
    await assert.rejects(createQemuCluster({ ...base, controlplanes: 0, vmlinuzPath: kernel, initrdPath: kernel }), /^ProvisionError: --controlplanes: /);
    await assert.rejects(createQemuCluster({ ...base, cidr: '10.0.2.0/24', vmlinuzPath: kernel, initrdPath: kernel }), /^ProvisionError: --cidr: /);
    assert.equal(existsSync(base.stateDir), false);
    assert.equal(existsSync(base.talosconfig), false);
  });
});

describe('bronzectl cluster create flags', () => {
  async function ctl(args: string[]): Promise<{ code: number; stderr: string }> {
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (d) => (stderr += d));
    const code = await run(args, { stdout: new PassThrough(), stderr: err, stdin: new PassThrough(), env: { HOME: '/nonexistent' }, signal: new AbortController().signal });
    return { code, stderr };
  }

  const cases: [string, string[], RegExp][] = [
    ['an unknown provisioner', ['--provisioner', 'docker'], /--provisioner: "docker" is not available \(process and qemu are\)/],
    ['a qemu flag with the process provisioner', ['--memory', '4096'], /--memory: only the qemu provisioner takes it/],
    ['too little memory', ['--provisioner', 'qemu', '--memory', '16'], /--memory: 16 is too little/],
    ['worker memory that is not a size', ['--provisioner', 'qemu', '--memory-workers', 'big'], /--memory-workers: "big" is not a memory size/],
    ['no CPUs', ['--provisioner', 'qemu', '--cpus', '0'], /--cpus: "0" is not a positive number of CPUs/],
    ['an unknown architecture', ['--provisioner', 'qemu', '--arch', 'riscv64'], /--arch: "riscv64" is not supported/],
    ['a loopback range for VMs', ['--provisioner', 'qemu', '--cidr', '127.65.0.0/24', '--vmlinuz-path', '/dev/null', '--initrd-path', '/dev/null'], /--cidr: 127\.65\.0\.0\/24 is not a range VMs can use/],
    ['a missing kernel', ['--provisioner', 'qemu', '--vmlinuz-path', '/nonexistent/vmlinuz'], /--vmlinuz-path: \/nonexistent\/vmlinuz does not exist/],
  ];
  for (const [what, args, re] of cases) {
    it(`refuses ${what}, naming the flag`, async () => {
      const r = await ctl(['cluster', 'create', '--state', '/nonexistent/state', ...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
    });
  }
});

describe('qemu VM arguments', () => {
  const mcast = { group: '239.200.1.2', port: 31337 };
  const spec = (over: Partial<VMSpec> = {}): VMSpec => ({
    arch: 'amd64',
    name: 'c-controlplane-1',
    memoryMiB: 2048,
    cpus: 2,
    kernel: '/img/vmlinuz-amd64',
    initrd: '/img/initramfs-amd64.xz',
    cmdline: nodeCmdline({ arch: 'amd64', hostname: 'c-controlplane-1', address: '10.5.0.2', netmask: '255.255.255.0' }),
    console: '/state/c/c-controlplane-1/console.log',
    apiPort: 40123,
    configServer: ['/usr/bin/node', '/src/provision/qemu-config-http.js', '/state/c/c-controlplane-1/config.yaml'],
    mcast,
    macs: ['02:aa:bb:cc:00:00', '02:aa:bb:cc:00:01'],
    ...over,
  });
  const opt = (args: string[], name: string) => args.filter((_, i) => args[i - 1] === name);

  it('the kernel command line reads back as the guest parses it: config URL and static addresses on both links', () => {
    const c = new KernelCmdline(nodeCmdline({ arch: 'amd64', hostname: 'c-worker-1', address: '10.5.0.3', netmask: '255.255.255.0', extra: ['talos.debug=1'] }));
    assert.equal(c.platform, 'metal');
    assert.equal(c.configURL, 'http://10.0.2.100/config.yaml');
    assert.equal(c.get('console'), 'ttyS0');
    assert.equal(c.get('talos.debug'), '1');
    // no crypto self-tests at boot, as Talos's kernels
    assert.ok(c.has('cryptomgr.notests'));
    const [user, cluster] = c.all('ip');
    assert.ok(user && cluster);
    assert.match(user, new RegExp(`^10\\.0\\.2\\.15::10\\.0\\.2\\.2:255\\.255\\.255\\.0:c-worker-1:${USER_LINK}:off$`));
    assert.match(cluster, new RegExp(`^10\\.5\\.0\\.3:::255\\.255\\.255\\.0::${CLUSTER_LINK}:off$`));
    const { client, gateway, netmask, device, autoconf } = parseIPSetting(cluster);
    assert.deepEqual({ client, gateway, netmask, device, autoconf }, { client: '10.5.0.3', gateway: undefined, netmask: '255.255.255.0', device: 'eth1', autoconf: 'off' });
    assert.equal(parseIPSetting(user).gateway, '10.0.2.2');
    assert.equal(new KernelCmdline(nodeCmdline({ arch: 'arm64', hostname: 'h', address: '10.5.0.2', netmask: '255.255.255.0' })).get('console'), 'ttyAMA0');
  });

  it('amd64: q35 under TCG, the console to a file, a restricted user NIC with the API forward and the config server, a multicast cluster NIC', () => {
    const a = qemuArgs(spec());
    assert.deepEqual(opt(a, '-machine'), ['q35']);
    assert.deepEqual(opt(a, '-accel'), ['tcg']);
    assert.deepEqual(opt(a, '-m'), ['2048']);
    assert.deepEqual(opt(a, '-smp'), ['2']);
    assert.deepEqual(opt(a, '-serial'), ['file:/state/c/c-controlplane-1/console.log']);
    assert.deepEqual(opt(a, '-kernel'), ['/img/vmlinuz-amd64']);
    assert.deepEqual(opt(a, '-initrd'), ['/img/initramfs-amd64.xz']);
    assert.ok(!a.includes('-no-reboot'), 'a guest reboot restarts the VM');
    const [user, cluster] = opt(a, '-netdev');
    assert.equal(
      user,
      'user,id=user,restrict=on,hostfwd=tcp:127.0.0.1:40123-10.0.2.15:50000,guestfwd=tcp:10.0.2.100:80-cmd:/usr/bin/node /src/provision/qemu-config-http.js /state/c/c-controlplane-1/config.yaml',
    );
    assert.equal(cluster, 'socket,id=cluster,mcast=239.200.1.2:31337,localaddr=127.0.0.1');
    // the user NIC first: it is eth0 in the guest
    assert.deepEqual(opt(a, '-device').slice(0, 2), ['virtio-net-pci,netdev=user,mac=02:aa:bb:cc:00:00', 'virtio-net-pci,netdev=cluster,mac=02:aa:bb:cc:00:01']);
  });

  it('a discovery proxy adds a guestfwd from the guest discovery address to the program that joins it to the host service', () => {
    const [user] = opt(qemuArgs(spec({ discoveryProxy: ['/usr/bin/node', '/src/provision/qemu-tcp-proxy.js', '127.0.0.1:41000', '/state/c/discovery-proxy.log'] })), '-netdev');
    assert.ok(user!.endsWith(',guestfwd=tcp:10.0.2.101:3000-cmd:/usr/bin/node /src/provision/qemu-tcp-proxy.js 127.0.0.1:41000 /state/c/discovery-proxy.log'), user);
  });

  it('arm64: the virt machine', () => {
    assert.deepEqual(opt(qemuArgs(spec({ arch: 'arm64' })), '-machine'), ['virt']);
  });

  it("commas are doubled and odd words quoted where QEMU's option syntax and guestfwd's command parsing need it", () => {
    const a = qemuArgs(spec({ console: '/st,ate/console.log', configServer: ['/usr/bin/node', "/my dir/it's.js"], kernel: '/a,b/vmlinuz' }));
    assert.deepEqual(opt(a, '-serial'), ['file:/st,,ate/console.log']);
    assert.deepEqual(opt(a, '-kernel'), ['/a,,b/vmlinuz']);
    assert.match(opt(a, '-netdev')[0]!, /-cmd:\/usr\/bin\/node '\/my dir\/it'\\''s\.js'$/);
    assert.equal(shellWord('/plain/path-1.2_x'), '/plain/path-1.2_x');
    assert.equal(shellWord(''), "''");
  });

  it('MAC addresses are locally administered unicast, one per node and NIC', () => {
    const bytes = Buffer.from([0xab, 0xcd, 0xef]);
    assert.equal(macAddress(bytes, 0, 1), '02:ab:cd:ef:00:01');
    assert.equal(macAddress(bytes, 17, 0), '02:ab:cd:ef:11:00');
    assert.throws(() => macAddress(bytes, 256, 0));
  });

  it('the multicast group is administratively scoped and the port unprivileged', () => {
    for (const b of [Buffer.alloc(5, 0), Buffer.alloc(5, 255), Buffer.from([1, 2, 3, 4, 5])]) {
      const m = pickMulticast(b);
      assert.match(m.group, /^239\.(19[2-9]|2[0-5]\d)\.\d+\.\d+$/);
      const last = Number(m.group.split('.')[3]);
      assert.ok(last >= 1 && last <= 254);
      assert.ok(m.port >= 20_000 && m.port < 60_000);
    }
  });

  it("a cluster's processes: QEMU or the config server with a file of the cluster in their arguments", () => {
    assert.ok(isClusterProcess(['qemu-system-x86_64', '-serial', 'file:/s/c/n/console.log'], '/s/c'));
    assert.ok(isClusterProcess(['/usr/bin/qemu-system-aarch64', '-serial', 'file:/s/c/n/console.log'], '/s/c/'));
    assert.ok(isClusterProcess(['/usr/bin/node', '/src/provision/qemu-config-http.js', '/s/c/n/config.yaml'], '/s/c'));
    assert.ok(isClusterProcess(['/usr/bin/node', '/src/provision/qemu-tcp-proxy.js', '127.0.0.1:4000', '/s/c/discovery-proxy.log'], '/s/c'));
    assert.ok(isClusterProcess(['/usr/bin/node', '/dist/bin/bronze.js', 'discovery', '--listen', '127.0.0.1:4000', '--log', '/s/c/discovery.log'], '/s/c'));
    assert.ok(!isClusterProcess(['/usr/bin/node', '/dist/bin/bronze.js', 'machined', '--state', '/s/c/n'], '/s/c'), 'a process-cluster node');
    assert.ok(!isClusterProcess(['qemu-system-x86_64', '-serial', 'file:/s/c2/n/console.log'], '/s/c'), 'another cluster whose name starts alike');
    assert.ok(!isClusterProcess(['tail', '-f', '/s/c/n/console.log'], '/s/c'), 'a user reading a log');
  });
});

describe('the config server run by guestfwd', () => {
  it('answers GET /config.yaml with the file; 404 elsewhere; 405 for other methods', () => {
    const read = () => Buffer.from('machine: {}\n');
    const ok = answer('GET /config.yaml HTTP/1.1\r\nHost: 10.0.2.100\r\n\r\n', read);
    assert.equal(ok.status, '200 OK');
    assert.equal(responseBytes(ok).toString(), 'HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: 12\r\nConnection: close\r\n\r\nmachine: {}\n');
    assert.equal(answer('GET /config.yaml?uuid=1 HTTP/1.1\r\n\r\n', read).status, '200 OK');
    assert.equal(answer('GET /other HTTP/1.1\r\n\r\n', read).status, '404 Not Found');
    assert.equal(answer('POST /config.yaml HTTP/1.1\r\n\r\n', read).status, '405 Method Not Allowed');
    const head = responseBytes(answer('HEAD /config.yaml HTTP/1.1\r\n\r\n', read)).toString();
    assert.match(head, /Content-Length: 12\r\n/);
    assert.ok(head.endsWith('Connection: close\r\n\r\n'), 'HEAD: no body');
  });

  it('as a program: one request on stdin, the response on stdout, a log line', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-qemu-http-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'version: v1alpha1\n');
    const [cmd, ...args] = configServerCommand();
    const child = spawn(cmd!, [...args, config, join(dir, 'http.log')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.write('GET /config.yaml HTTP/1.1\r\nHost: 10.0.2.100\r\n');
    child.stdin.write('\r\n');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nversion: v1alpha1\n$/);
    const line = JSON.parse(readFileSync(join(dir, 'http.log'), 'utf8').trim()) as { request: string; status: string };
    assert.deepEqual([line.request, line.status], ['GET /config.yaml HTTP/1.1', '200 OK']);
  });
});
