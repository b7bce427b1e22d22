import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable, nsip, VethPair } from '../helpers/netns.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * rtnetlink from inside a namespace the test creates: link up and MTU, addresses, routes, applied by our wrapper and
 * read back with `ip -j` from inside the namespace.
 */
describe('rtnetlink wrapper in a network namespace', { skip: netnsUnavailable() }, () => {
  let pair: VethPair;
  let dir: string;

  before(() => {
    pair = new VethPair(`brtnl${process.pid % 10000}`, 'peer0', 'eth0');
    nsip(pair.b, 'link', 'set', 'eth0', 'down');
    dir = mkdtempSync(join(tmpdir(), 'bronze-rtnl-'));
  });
  after(() => {
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a script using the wrapper inside namespace b, returning what it printed as JSON. */
  function inNamespace(body: string): unknown {
    const script = join(dir, `s${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(script, `import { Rtnl } from ${JSON.stringify(join(root, 'src/sys/netlink/rtnl.ts'))};\nconst nl = new Rtnl();\ntry {\n${body}\n} finally { nl.close(); }\n`);
    const out = execFileSync('ip', ['netns', 'exec', pair.b, process.execPath, '--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    return out.trim() === '' ? undefined : JSON.parse(out);
  }

  it('brings a link up and sets its MTU', () => {
    inNamespace(`await nl.setLinkUp('eth0', true); await nl.setMTU('eth0', 1400);`);
    const link = (JSON.parse(nsip(pair.b, '-j', 'link', 'show', 'eth0')) as { flags: string[]; mtu: number }[])[0]!;
    assert.ok(link.flags.includes('UP'));
    assert.equal(link.mtu, 1400);
    const seen = inNamespace(`console.log(JSON.stringify(await nl.link('eth0')));`) as { up: boolean; mtu: number; kind: string; hardwareAddr: string };
    assert.equal(seen.up, true);
    assert.equal(seen.mtu, 1400);
    assert.equal(seen.kind, 'veth');
    assert.match(seen.hardwareAddr, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('lists the links as the kernel and the netlink package decode them', () => {
    const pkg = JSON.stringify(join(root, 'node_modules/netlink/dist/index.js'));
    const { ours, theirs } = inNamespace(`
      const { createRtNetlink } = await import(${pkg});
      const sock = createRtNetlink();
      const msgs = await sock.getLinks();
      sock.socket.close();
      const hex = (b) => (b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : '');
      const theirs = msgs.map((m) => ({
        index: m.data.index, name: m.attrs.ifname, up: m.data.flags?.up === true, lowerUp: m.data.flags?.lowerUp === true,
        mtu: m.attrs.mtu ?? 0, hardwareAddr: hex(m.attrs.address), type: String(m.data.type).toLowerCase(),
        carrier: Boolean(m.attrs.carrier), broadcastAddr: hex(m.attrs.broadcast), queueDisc: m.attrs.qdisc ?? '',
        masterIndex: Number(m.attrs.master ?? 0),
      }));
      console.log(JSON.stringify({ ours: await nl.links(), theirs }));
    `) as { ours: Record<string, unknown>[]; theirs: Record<string, unknown>[] };
    assert.deepEqual(ours.map((l) => l.name).sort(), ['eth0', 'lo']);
    assert.deepEqual(
      // the package reads IFLA_LINK as no number at all: the peer's index is checked against ip's below
      ours.map(({ kind: _k, operState: _o, flags: _f, linkIndex: _l, ...rest }) => rest),
      theirs,
    );
    const ip = JSON.parse(nsip(pair.b, '-j', 'link', 'show')) as { ifname: string; operstate: string; link_index?: number }[];
    for (const l of ours) {
      const shown = ip.find((x) => x.ifname === l.name)!;
      assert.equal(String(l.operState).toUpperCase(), shown.operstate, l.name as string);
      assert.equal(l.linkIndex, shown.link_index ?? 0, l.name as string);
    }
    assert.equal(ours.find((l) => l.name === 'eth0')!.kind, 'veth');
  });

  it('adds addresses and routes, and removes them', () => {
    inNamespace(`
      await nl.addAddress('eth0', '10.88.0.5/24');
      await nl.addAddress('eth0', 'fd00:88::5/64');
      await nl.addRoute({ destination: '0.0.0.0/0', gateway: '10.88.0.1', link: 'eth0', priority: 1024 });
      await nl.addRoute({ destination: '10.99.0.0/16', gateway: '10.88.0.2', link: 'eth0' });
    `);
    const addrs = (JSON.parse(nsip(pair.b, '-j', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string; prefixlen: number }[] }[])[0]!.addr_info;
    assert.ok(addrs.some((a) => a.local === '10.88.0.5' && a.prefixlen === 24));
    assert.ok(addrs.some((a) => a.local === 'fd00:88::5' && a.prefixlen === 64));
    const routes = JSON.parse(nsip(pair.b, '-j', 'route', 'show')) as { dst: string; gateway?: string; metric?: number }[];
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === '10.88.0.1' && r.metric === 1024));
    assert.ok(routes.some((r) => r.dst === '10.99.0.0/16' && r.gateway === '10.88.0.2'));

    const listed = inNamespace(`console.log(JSON.stringify({ a: await nl.addresses(), r: await nl.routes() }));`) as { a: { cidr: string; linkName: string }[]; r: { destination: string; gateway?: string; priority: number }[] };
    assert.ok(listed.a.some((a) => a.cidr === '10.88.0.5/24' && a.linkName === 'eth0'));
    assert.ok(listed.a.some((a) => a.cidr === 'fd00:88::5/64'));
    assert.ok(listed.r.some((r) => r.destination === '0.0.0.0/0' && r.gateway === '10.88.0.1' && r.priority === 1024));

    inNamespace(`
      await nl.removeRoute({ destination: '10.99.0.0/16', gateway: '10.88.0.2', link: 'eth0' });
      await nl.removeAddress('eth0', '10.88.0.5/24');
    `);
    const after = (JSON.parse(nsip(pair.b, '-j', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string }[] }[])[0]!.addr_info;
    assert.ok(!after.some((a) => a.local === '10.88.0.5'));
    const routesAfter = JSON.parse(nsip(pair.b, '-j', 'route', 'show')) as { dst: string }[];
    assert.ok(!routesAfter.some((r) => r.dst === '10.99.0.0/16'));
  });

  it('names what is wrong', () => {
    const out = inNamespace(`
      const errs = [];
      for (const f of [() => nl.setLinkUp('nope0', true), () => nl.addAddress('eth0', '10.1.2.3/33'), () => nl.addAddress('eth0', 'x/24')]) {
        try { await f(); errs.push('no error'); } catch (e) { errs.push(e.code + ': ' + e.message); }
      }
      console.log(JSON.stringify(errs));
    `) as string[];
    assert.deepEqual(out, [
      'BRONZE_NETLINK_NO_LINK: link "nope0" not found',
      'BRONZE_NETLINK_BAD_ADDRESS: invalid prefix length in "10.1.2.3/33"',
      'BRONZE_NETLINK_BAD_ADDRESS: invalid address "x/24"',
    ]);
  });
});
