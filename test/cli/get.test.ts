import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { StateService } from '../../src/api/gen/cosi/state.js';
import { stateService } from '../../src/cosi/api/server.js';
import { InMemoryState } from '../../src/cosi/inmem.js';
import { Registry } from '../../src/cosi/registry.js';
import { newResource } from '../../src/cosi/resource.js';
import { State } from '../../src/cosi/state.js';
import { registerAll } from '../../src/resources/index.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl get', () => {
  const node = new FakeNode();
  const state = new State(new InMemoryState());
  before(async () => {
    const registry = new Registry(state);
    await registerAll(registry);
    await state.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: 'example.org' }), { owner: 'network.HostnameStatusController' });
    await state.create(newResource({ namespace: 'network', type: 'AddressStatuses.net.talos.dev', id: 'eth0/10.5.0.2/24' }, { address: '10.5.0.2/24', linkName: 'eth0', linkIndex: 2, family: 'inet4', scope: 'global', flags: 'permanent', priority: 0 }));
    await node.start({});
    node.server.addService(StateService, stateService({ state, registry, logger: pino({ level: 'silent' }), apiPolicy: true }));
  });
  after(() => node.stop());

  it('prints a table with the definition print columns, found by alias', async () => {
    const r = await node.bronzectl('get', 'hostname');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'NODE        NAMESPACE   TYPE             ID         VERSION   HOSTNAME   DOMAINNAME\n127.0.0.1   network     HostnameStatus   hostname   1         cp-1       example.org\n');
    const a = await node.bronzectl('get', 'addresses');
    assert.match(a.stdout, /AddressStatus   eth0\/10\.5\.0\.2\/24   1         10\.5\.0\.2\/24   eth0\n$/);
  });

  it('prints YAML and JSON with metadata in talosctl order', async () => {
    const y = await node.bronzectl('get', 'hostnamestatus', 'hostname', '-o', 'yaml');
    assert.match(y.stdout, /^node: 127\.0\.0\.1\nmetadata:\n {4}namespace: network\n {4}type: HostnameStatuses\.net\.talos\.dev\n {4}id: hostname\n {4}version: 1\n {4}owner: network\.HostnameStatusController\n {4}phase: running\n {4}created: \d{4}-\d\d-\d\dT[\d:.]+Z\n {4}updated: \S+\nspec:\n {4}hostname: cp-1\n {4}domainname: example\.org\n$/);
    const j = JSON.parse((await node.bronzectl('get', 'hostnamestatuses.net.talos.dev', '-o', 'json')).stdout);
    assert.equal(j.node, '127.0.0.1');
    assert.equal(j.spec.hostname, 'cp-1');
    assert.equal((await node.bronzectl('get', 'hostname', '-o', 'jsonpath={.spec.hostname}')).stdout, 'cp-1\n');
  });

  it('prints watch events with + marks, then updates', async () => {
    const ac = new AbortController();
    const { PassThrough } = await import('node:stream');
    const { run } = await import('../../src/cli/main.js');
    const out = new PassThrough();
    let text = '';
    const changed = new Promise<void>((resolve) =>
      out.on('data', (d) => {
        text += d;
        if (text.includes('cp-2')) resolve();
      }),
    );
    const done = run(['--talosconfig', node.talosconfig, 'get', 'hostname', '-w'], { stdout: out, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, signal: ac.signal });
    await new Promise<void>((resolve) => out.once('data', () => resolve()));
    await state.updateWithConflicts({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, (r) => ((r.spec as { hostname: string }).hostname = 'cp-2'), { owner: 'network.HostnameStatusController' });
    await changed;
    ac.abort();
    await done;
    // as talosctl: the event mark comes after the node
    assert.match(text, /^NODE        \*   NAMESPACE   TYPE             ID         VERSION   HOSTNAME   DOMAINNAME\n127\.0\.0\.1   \+   network     HostnameStatus   hostname   1         cp-1       example\.org\n/);
    // in watch mode each event is flushed, and so aligned, on its own
    assert.match(text, /\n127\.0\.0\.1 {7}network   HostnameStatus   hostname   2   cp-2   example\.org\n$/);
  });

  it('names unknown types and refuses sensitive ones without admin', async () => {
    assert.match((await node.bronzectl('get', 'nosuchthing')).stderr, /resource "nosuchthing" is not registered/);
    assert.match((await node.bronzectl('get', 'osrootsecrets')).stderr, /PermissionDenied desc = not authorized/);
  });
});
