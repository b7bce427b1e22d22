import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable, nsip, runInNamespace, VethPair } from '../helpers/netns.js';


/**
 * The link, address and route status controllers inside a network namespace the test creates: they report what the
 * kernel has, and follow changes made behind their back (`ip` in the namespace) through rtnetlink notifications.
 */
describe('network status controllers in a network namespace', { skip: netnsUnavailable() }, () => {
  let pair: VethPair;
  let dir: string;

  before(() => {
    pair = new VethPair(`bstat${process.pid % 10000}`, 'peer0', 'eth0');
    dir = mkdtempSync(join(tmpdir(), 'bronze-netstatus-'));
  });
  after(() => {
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports links, addresses and routes, and follows kernel changes', () => {
    const out = runInNamespace(pair.b, dir, `import { execFileSync } from 'node:child_process';
      import pino from '@/pino';
      import { ControllerRuntime } from '@/src/cosi/controller/runtime.ts';
      import { InMemoryState } from '@/src/cosi/inmem.ts';
      import { State } from '@/src/cosi/state.ts';
      import { LinkStatusController } from '@/src/controllers/network/link-status.ts';
      import { AddressStatusController } from '@/src/controllers/network/address-status.ts';
      import { RouteStatusController } from '@/src/controllers/network/route-status.ts';
      import { NetworkStatusController } from '@/src/controllers/network/status.ts';
      // the netlink sockets do not keep the process alive (a real node has plenty that do)
      const keepAlive = setInterval(() => {}, 1000);
      const state = new State(new InMemoryState());
      const rt = new ControllerRuntime(state, pino({ level: 'silent' }));
      for (const c of [new LinkStatusController(), new AddressStatusController(), new RouteStatusController(), new NetworkStatusController('metal')]) rt.register(c);
      rt.start();
      const deadline = AbortSignal.timeout(20_000);
      const get = (type, id) => state.watchFor({ namespace: 'network', type, id }, (r) => r !== undefined, deadline);
      const out = {};
      out.eth0 = (await get('LinkStatuses.net.talos.dev', 'eth0')).spec;
      // changes made behind the controllers' back
      execFileSync('ip', ['addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
      execFileSync('ip', ['route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0', 'metric', '1024']);
      out.address = (await get('AddressStatuses.net.talos.dev', 'eth0/192.0.2.10/24')).spec;
      out.route = (await get('RouteStatuses.net.talos.dev', 'inet4/192.0.2.1//1024')).spec;
      out.status = (await state.watchFor({ namespace: 'network', type: 'NetworkStatuses.net.talos.dev', id: 'status' }, (r) => r?.spec.connectivityReady === true, deadline)).spec;
      execFileSync('ip', ['addr', 'del', '192.0.2.10/24', 'dev', 'eth0']);
      await state.watchFor({ namespace: 'network', type: 'AddressStatuses.net.talos.dev', id: 'eth0/192.0.2.10/24' }, (r) => r === undefined, deadline);
      out.removed = true;
      await rt.stop();
      clearInterval(keepAlive);
      console.log(JSON.stringify(out));
      `) as {
      eth0: Record<string, unknown>;
      address: Record<string, unknown>;
      route: Record<string, unknown>;
      status: Record<string, unknown>;
      removed: boolean;
    };
    const link = (JSON.parse(nsip(pair.b, '-j', 'link', 'show', 'eth0')) as { ifindex: number; mtu: number; address: string; flags: string[]; operstate: string }[])[0]!;
    assert.equal(out.eth0.index, link.ifindex);
    assert.equal(out.eth0.mtu, link.mtu);
    assert.equal(out.eth0.hardwareAddr, link.address);
    assert.equal(out.eth0.kind, 'veth');
    assert.equal(out.eth0.type, 'ether');
    // Talos's order and names (ip -j leaves RUNNING out)
    assert.equal(out.eth0.flags, 'UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP');
    assert.deepEqual([...link.flags].sort(), ['BROADCAST', 'LOWER_UP', 'MULTICAST', 'UP']);
    assert.equal(out.eth0.operationalState, link.operstate.toLowerCase());
    assert.deepEqual(out.address, { address: '192.0.2.10/24', local: '192.0.2.10', linkIndex: link.ifindex, linkName: 'eth0', family: 'inet4', scope: 'global', flags: '', priority: 0 });
    assert.deepEqual(out.route, { family: 'inet4', dst: '', src: '', gateway: '192.0.2.1', outLinkIndex: link.ifindex, outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', flags: '', protocol: 'boot' });
    assert.equal(out.status.connectivityReady, true);
    assert.equal(out.removed, true);
  });
});
