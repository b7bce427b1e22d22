import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { netnsUnavailable, nsip, runInNamespace, VethPair } from '../helpers/netns.js';

const root = new URL('../..', import.meta.url).pathname;
const skip = netnsUnavailable() ?? (spawnSync('dnsmasq', ['--version']).status === 0 ? undefined : 'dnsmasq is not installed (make deps installs dnsmasq-base)');

/**
 * The DHCP client inside a network namespace, against dnsmasq serving on the other end of a veth pair: discover,
 * request, the options a node uses, and renewal.
 */
describe('DHCPv4 client against dnsmasq', { skip }, () => {
  let pair: VethPair;
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    pair = new VethPair(`bdhcp${process.pid % 10000}`, 'srv0', 'eth0');
    nsip(pair.a, 'addr', 'add', '10.77.0.1/24', 'dev', 'srv0');
    dir = mkdtempSync(join(tmpdir(), 'bronze-dhcp-'));
    const dnsmasq = startDnsmasq(pair.a, dir);
    children.push(dnsmasq);
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gets a lease with router, DNS, NTP, MTU, search domains and classless routes, then renews it', { timeout: 60_000 }, async () => {
    const script = join(dir, 'client.mts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { DHCP4Client, udpTransport } from ${JSON.stringify(join(root, 'src/controllers/network/dhcp4-client.ts'))};
const mac = Buffer.from(readFileSync('/sys/class/net/eth0/address', 'utf8').trim().split(':').map((h) => parseInt(h, 16)));
const transport = await udpTransport('eth0');
const client = new DHCP4Client({ mac, hostname: 'node-1', transport, retransmitMs: 500, timeScale: 0.01 });
const ac = new AbortController();
process.on('SIGTERM', () => { ac.abort(); transport.close(); });
let applied = false;
await client.run(ac.signal, (lease) => {
  // what the address spec controller does on metal: the address goes on the link, so renewal can be unicast
  if (!applied) execFileSync('ip', ['addr', 'add', lease.address + '/' + lease.prefixLength, 'dev', 'eth0']);
  applied = true;
  process.stdout.write(JSON.stringify(lease) + '\\n');
}, () => process.stdout.write('expired\\n'));
`,
    );
    const client = spawn('ip', ['netns', 'exec', pair.b, process.execPath, '--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(client);
    const lines = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
    const first = JSON.parse((await lines.next()).value as string);
    assert.match(first.address, /^10\.77\.0\.(5\d|60)$/);
    assert.equal(first.prefixLength, 24);
    assert.equal(first.serverId, '10.77.0.1');
    assert.deepEqual(first.routers, ['10.77.0.1']);
    assert.deepEqual(first.dns, ['10.77.0.1', '10.77.0.2']);
    assert.deepEqual(first.ntp, ['10.77.0.1']);
    assert.equal(first.mtu, 1400);
    assert.equal(first.domain, 'example.test');
    assert.deepEqual(first.searchDomains, ['example.test', 'corp.test']);
    assert.deepEqual(first.classlessRoutes, [{ destination: '10.99.0.0', prefixLength: 16, gateway: '10.77.0.1' }]);
    assert.equal(first.leaseTime, 120);
    // T1 is half the lease: with time scaled by 1/100 the renewal comes after about 0.6 s
    const renewed = JSON.parse((await lines.next()).value as string);
    assert.equal(renewed.address, first.address);
    assert.equal(renewed.leaseTime, 120);
    const addrs = JSON.parse(nsip(pair.b, '-j', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string; family: string }[] }[];
    assert.ok(addrs[0]!.addr_info.some((a) => a.local === first.address));
    client.kill('SIGTERM');
  });
});

/**
 * The DHCPv4 operator in a namespace against dnsmasq: `ip=eth0:dhcp` makes an OperatorSpec, the operator's lease
 * becomes specs of the operator layer, and the spec controllers put the address, routes and MTU on the link.
 */
describe('DHCPv4 operator against dnsmasq', { skip }, () => {
  let pair: VethPair;
  let dir: string;
  let dnsmasq: ChildProcess;

  before(() => {
    pair = new VethPair(`bdop${process.pid % 10000}`, 'srv0', 'eth0');
    nsip(pair.a, 'addr', 'add', '10.77.0.1/24', 'dev', 'srv0');
    dir = mkdtempSync(join(tmpdir(), 'bronze-dhcpop-'));
    dnsmasq = startDnsmasq(pair.a, dir);
  });

  after(() => {
    dnsmasq?.kill('SIGKILL');
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns the lease into address, routes, resolvers, time servers and MTU, applied to the link', { timeout: 60_000 }, () => {
    const out = runInNamespace(
      pair.b,
      dir,
      `import { execFileSync } from 'node:child_process';
      import { KernelCmdline } from '@/src/platform/cmdline.ts';
      import { ControllerTest } from '@/src/controllers/ctest.ts';
      import { LinkStatusController } from '@/src/controllers/network/link-status.ts';
      import { AddressStatusController } from '@/src/controllers/network/address-status.ts';
      import { RouteStatusController } from '@/src/controllers/network/route-status.ts';
      import { OperatorConfigController } from '@/src/controllers/network/operator-config.ts';
      import { OperatorSpecController } from '@/src/controllers/network/operator-spec.ts';
      import { LayeredMergeController } from '@/src/controllers/network/layered-merge.ts';
      import { ListMergeController } from '@/src/controllers/network/list-merge.ts';
      import { AddressSpecController } from '@/src/controllers/network/address-spec.ts';
      import { RouteSpecController } from '@/src/controllers/network/route-spec.ts';
      import { LinkSpecController } from '@/src/controllers/network/link-spec.ts';
      const keepAlive = setInterval(() => {}, 1000);
      const cmdline = new KernelCmdline('ip=eth0:dhcp');
      const t = ControllerTest.start([
        new LinkStatusController(), new AddressStatusController(), new RouteStatusController(),
        new OperatorConfigController(cmdline), new LayeredMergeController('network.OperatorMergeController', 'OperatorSpecs.net.talos.dev'),
        new OperatorSpecController(),
        new LayeredMergeController('network.AddressMergeController', 'AddressSpecs.net.talos.dev'),
        new LayeredMergeController('network.RouteMergeController', 'RouteSpecs.net.talos.dev'),
        new LayeredMergeController('network.LinkMergeController', 'LinkSpecs.net.talos.dev'),
        new ListMergeController('network.ResolverMergeController', 'ResolverSpecs.net.talos.dev', 'resolvers', ['dnsServers']),
        new ListMergeController('network.TimeServerMergeController', 'TimeServerSpecs.net.talos.dev', 'timeservers', ['timeServers']),
        new AddressSpecController(), new RouteSpecController(), new LinkSpecController(),
      ], { deadlineMs: 30_000 });
      const net = (type, id) => ({ namespace: 'network', type, id });
      const resolvers = await t.expect(net('ResolverSpecs.net.talos.dev', 'resolvers'));
      const timeservers = await t.expect(net('TimeServerSpecs.net.talos.dev', 'timeservers'));
      await t.expect(net('RouteStatuses.net.talos.dev', 'inet4/10.77.0.1/10.99.0.0/16/1024'));
      await t.expect(net('LinkStatuses.net.talos.dev', 'eth0'), (s) => s.mtu === 1400);
      const addr = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }));
      const routes = JSON.parse(execFileSync('ip', ['-j', 'route', 'show'], { encoding: 'utf8' }));
      await t.stop();
      clearInterval(keepAlive);
      console.log(JSON.stringify({ resolvers, timeservers, addr, routes }));
      `,
    ) as { resolvers: { dnsServers: string[]; searchDomains: string[]; layer: string }; timeservers: { timeServers: string[] }; addr: { mtu: number; addr_info: { local: string; family: string; prefixlen: number }[] }[]; routes: { dst: string; gateway?: string; metric?: number }[] };
    assert.deepEqual(out.resolvers, { dnsServers: ['10.77.0.1', '10.77.0.2'], layer: 'operator', searchDomains: ['example.test', 'corp.test'] });
    assert.deepEqual(out.timeservers.timeServers, ['10.77.0.1']);
    assert.equal(out.addr[0]!.mtu, 1400);
    assert.ok(out.addr[0]!.addr_info.some((a) => a.family === 'inet' && /^10\.77\.0\.(5\d|60)$/.test(a.local) && a.prefixlen === 24), JSON.stringify(out.addr[0]!.addr_info));
    assert.ok(out.routes.some((r) => r.dst === '10.99.0.0/16' && r.gateway === '10.77.0.1' && r.metric === 1024), JSON.stringify(out.routes));
  });
});
