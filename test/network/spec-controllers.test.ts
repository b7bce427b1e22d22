import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable, nsip, runInNamespace, VethPair } from '../helpers/netns.js';


interface IPAddr {
  ifname: string;
  mtu: number;
  flags: string[];
  addr_info: { local: string; prefixlen: number; family: string }[];
}
interface IPRoute {
  dst: string;
  gateway?: string;
  dev: string;
  metric?: number;
}

/**
 * The link, address and route spec controllers inside a network namespace the test creates: specs put into the
 * resource store are applied to the kernel (link up, MTU, address, default route), checked with `ip -j` from inside
 * the namespace, and undone when the specs go away.
 */
describe('network spec controllers in a network namespace', { skip: netnsUnavailable() }, () => {
  let pair: VethPair;
  let dir: string;

  before(() => {
    pair = new VethPair(`bspec${process.pid % 10000}`, 'peer0', 'eth0');
    nsip(pair.b, 'link', 'set', 'eth0', 'down');
    dir = mkdtempSync(join(tmpdir(), 'bronze-netspec-'));
  });
  after(() => {
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies links, addresses and routes, and removes what is no longer specified', () => {
    const out = runInNamespace(pair.b, dir, `import { execFileSync } from 'node:child_process';
      import pino from '@/pino';
      import { ControllerRuntime } from '@/src/cosi/controller/runtime.ts';
      import { InMemoryState } from '@/src/cosi/inmem.ts';
      import { newResource } from '@/src/cosi/resource.ts';
      import { State } from '@/src/cosi/state.ts';
      import { LinkStatusController } from '@/src/controllers/network/link-status.ts';
      import { AddressStatusController } from '@/src/controllers/network/address-status.ts';
      import { RouteStatusController } from '@/src/controllers/network/route-status.ts';
      import { LinkSpecController } from '@/src/controllers/network/link-spec.ts';
      import { AddressSpecController } from '@/src/controllers/network/address-spec.ts';
      import { RouteSpecController } from '@/src/controllers/network/route-spec.ts';
      const keepAlive = setInterval(() => {}, 1000);
      const state = new State(new InMemoryState());
      const rt = new ControllerRuntime(state, pino({ level: 'silent' }));
      for (const c of [new LinkStatusController(), new AddressStatusController(), new RouteStatusController(), new LinkSpecController(), new AddressSpecController(), new RouteSpecController()]) rt.register(c);
      rt.start();
      const deadline = AbortSignal.timeout(20_000);
      const ptr = (type, id) => ({ namespace: 'network', type, id });
      const ipj = (...a) => JSON.parse(execFileSync('ip', ['-j', ...a], { encoding: 'utf8' }));
      await state.create(newResource(ptr('LinkSpecs.net.talos.dev', 'eth0'), { name: 'eth0', logical: false, up: true, mtu: 1400, kind: '', type: 'ether', parentName: '', layer: 'configuration' }));
      await state.create(newResource(ptr('AddressSpecs.net.talos.dev', 'eth0/192.0.2.20/24'), { address: '192.0.2.20/24', linkName: 'eth0', family: 'inet4', scope: 'global', flags: 'permanent', layer: 'configuration' }));
      await state.create(newResource(ptr('RouteSpecs.net.talos.dev', 'inet4/192.0.2.1//1024'), { family: 'inet4', dst: '', src: '', gateway: '192.0.2.1', outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', flags: '', protocol: 'static', layer: 'configuration' }));
      await state.watchFor(ptr('LinkStatuses.net.talos.dev', 'eth0'), (r) => r?.spec.mtu === 1400 && r.spec.flags.startsWith('UP'), deadline);
      await state.watchFor(ptr('AddressStatuses.net.talos.dev', 'eth0/192.0.2.20/24'), (r) => r !== undefined, deadline);
      await state.watchFor(ptr('RouteStatuses.net.talos.dev', 'inet4/192.0.2.1//1024'), (r) => r !== undefined, deadline);
      const applied = { addr: ipj('addr', 'show', 'eth0'), routes: ipj('route', 'show', 'default') };
      // someone removes the address behind our back: it comes back
      execFileSync('ip', ['addr', 'del', '192.0.2.20/24', 'dev', 'eth0']);
      await state.watchFor(ptr('AddressStatuses.net.talos.dev', 'eth0/192.0.2.20/24'), (r) => r === undefined, deadline);
      await state.watchFor(ptr('AddressStatuses.net.talos.dev', 'eth0/192.0.2.20/24'), (r) => r !== undefined, deadline);
      await state.destroy(ptr('RouteSpecs.net.talos.dev', 'inet4/192.0.2.1//1024'));
      await state.destroy(ptr('AddressSpecs.net.talos.dev', 'eth0/192.0.2.20/24'));
      await state.watchFor(ptr('AddressStatuses.net.talos.dev', 'eth0/192.0.2.20/24'), (r) => r === undefined, deadline);
      await state.watchFor(ptr('RouteStatuses.net.talos.dev', 'inet4/192.0.2.1//1024'), (r) => r === undefined, deadline);
      const removed = { addr: ipj('addr', 'show', 'eth0'), routes: ipj('route', 'show', 'default') };
      await rt.stop();
      clearInterval(keepAlive);
      console.log(JSON.stringify({ applied, removed }));
      `) as {
      applied: { addr: IPAddr[]; routes: IPRoute[] };
      removed: { addr: IPAddr[]; routes: IPRoute[] };
    };
    const link = out.applied.addr[0]!;
    assert.equal(link.mtu, 1400);
    assert.ok(link.flags.includes('UP'));
    assert.ok(link.addr_info.some((a) => a.family === 'inet' && a.local === '192.0.2.20' && a.prefixlen === 24), JSON.stringify(link.addr_info));
    assert.deepEqual(out.applied.routes.map((r) => [r.dst, r.gateway, r.dev, r.metric]), [['default', '192.0.2.1', 'eth0', 1024]]);
    assert.equal(out.removed.addr[0]!.addr_info.some((a) => a.local === '192.0.2.20'), false);
    assert.deepEqual(out.removed.routes, []);
    // the link keeps its MTU and stays up: it is still specified
    assert.equal(out.removed.addr[0]!.mtu, 1400);
  });

  it('installs a route whose gateway was unreachable as soon as an address makes it reachable, without a backoff', () => {
    // the runtime's restart backoff is a minute: had the refused route failed the controller, the route would come
    // far past the deadline
    const out = runInNamespace(pair.b, dir, `import { execFileSync } from 'node:child_process';
      import { Writable } from 'node:stream';
      import pino from '@/pino';
      import { ControllerRuntime } from '@/src/cosi/controller/runtime.ts';
      import { InMemoryState } from '@/src/cosi/inmem.ts';
      import { newResource } from '@/src/cosi/resource.ts';
      import { State } from '@/src/cosi/state.ts';
      import { LinkStatusController } from '@/src/controllers/network/link-status.ts';
      import { RouteStatusController } from '@/src/controllers/network/route-status.ts';
      import { LinkSpecController } from '@/src/controllers/network/link-spec.ts';
      import { RouteSpecController } from '@/src/controllers/network/route-spec.ts';
      const keepAlive = setInterval(() => {}, 1000);
      const lines = [];
      let onLine = () => {};
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(...chunk.toString().trim().split('\\n').map((l) => JSON.parse(l))); onLine(); done(); } });
      const logged = (msg) => new Promise((resolve) => { onLine = () => { if (lines.some((l) => l.msg === msg)) resolve(); }; onLine(); });
      const state = new State(new InMemoryState());
      const rt = new ControllerRuntime(state, pino({ level: 'info' }, sink), { backoffBaseMs: 60_000 });
      for (const c of [new LinkStatusController(), new RouteStatusController(), new LinkSpecController(), new RouteSpecController()]) rt.register(c);
      rt.start();
      const deadline = AbortSignal.timeout(20_000);
      const ptr = (type, id) => ({ namespace: 'network', type, id });
      await state.create(newResource(ptr('LinkSpecs.net.talos.dev', 'eth0'), { name: 'eth0', logical: false, up: true, mtu: 1400, kind: '', type: 'ether', parentName: '', layer: 'configuration' }));
      await state.create(newResource(ptr('RouteSpecs.net.talos.dev', 'inet4/198.51.100.1/10.98.0.0/16/1024'), { family: 'inet4', dst: '10.98.0.0/16', src: '', gateway: '198.51.100.1', outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', flags: '', protocol: 'static', layer: 'configuration' }));
      await Promise.race([logged('route waits for its gateway to be reachable'), new Promise((_, reject) => deadline.addEventListener('abort', () => reject(new Error('the route was never refused'))))]);
      const before = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', '10.98.0.0/16'], { encoding: 'utf8' }));
      execFileSync('ip', ['addr', 'add', '198.51.100.7/24', 'dev', 'eth0']);
      await state.watchFor(ptr('RouteStatuses.net.talos.dev', 'inet4/198.51.100.1/10.98.0.0/16/1024'), (r) => r !== undefined, deadline);
      const after = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', '10.98.0.0/16'], { encoding: 'utf8' }));
      await rt.stop();
      execFileSync('ip', ['addr', 'del', '198.51.100.7/24', 'dev', 'eth0']);
      clearInterval(keepAlive);
      console.log(JSON.stringify({ before, after, failed: lines.filter((l) => l.level >= 50).map((l) => l.msg) }));
      `) as { before: IPRoute[]; after: IPRoute[]; failed: string[] };
    assert.deepEqual(out.before, []);
    assert.deepEqual(out.after.map((r) => [r.dst, r.gateway, r.dev, r.metric]), [['10.98.0.0/16', '198.51.100.1', 'eth0', 1024]]);
    assert.deepEqual(out.failed, []);
  });
});
