import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { Client } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import { StateClient } from '../../client/state-client.js';
import { type StrSpec, strDefinition, StrType, testDefinitions } from '../conformance/resources.js';
import { brief, stateConformance, take, takeEvents } from '../conformance/state-suite.js';
import { controllerConformance } from '../controller/conformance/runtime-suite.js';
import { isAccessDenied, isInvalidBookmark, isNotFound, isUnsupported } from '../errors.js';
import { readOnlyView } from '../filter.js';
import { InMemoryState } from '../inmem.js';
import { Registry } from '../registry.js';
import { newResource } from '../resource.js';
import { State } from '../state.js';
import { RemoteState } from './client.js';
import { type RunningStateServer, startStateServer, type StateServerOptions } from './server.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'bronze-cosi-'));
  dirs.push(d);
  return d;
};

/** A state with the test types registered, as machined's would be. */
async function registeredState(): Promise<{ inner: State; registry: Registry }> {
  const inner = new State(new InMemoryState());
  const registry = new Registry(inner);
  await registry.init();
  await registry.registerNamespace('default', 'Tests.');
  for (const d of testDefinitions) await registry.register(d);
  return { inner, registry };
}

async function remoteFixture(listen: 'unix' | 'tcp') {
  const { inner, registry } = await registeredState();
  const socket = join(tempDir(), 'state.sock');
  const server = await startStateServer({ state: inner, registry, logger: log, listen: [listen === 'unix' ? { unix: socket } : { tcp: '127.0.0.1:0' }] });
  // over a socket as apid and trustd reach machined: a client of the State service alone
  const client = listen === 'unix' ? StateClient.forSocket(socket) : new Client({ endpoints: [`http://${server.addresses[0]!}`], tls: {} });
  return {
    state: new RemoteState(client.cosi, { registry, retryMs: 20 }),
    cleanup: async () => {
      client.close();
      await server.close(1000);
    },
  };
}

stateConformance('remote over a unix socket', () => remoteFixture('unix'));
stateConformance('remote over TCP', () => remoteFixture('tcp'));

// controllers over a remote state, with the server restarted under them (watches resume, failed calls are retried)
controllerConformance('over a remote state', async () => {
  const { inner, registry } = await registeredState();
  const socket = join(tempDir(), 'state.sock');
  const opts: StateServerOptions = { state: inner, registry, logger: log, listen: [{ unix: socket }] };
  let server = await startStateServer(opts);
  const client = new Client({ endpoints: [`unix://${socket}`], tls: {}, channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 } });
  return {
    state: new RemoteState(client.cosi, { registry, retryMs: 20 }),
    direct: inner,
    restart: async () => {
      server.server.forceShutdown();
      server = await startStateServer(opts);
    },
    cleanup: async () => {
      client.close();
      await server.close(1000);
    },
  };
});

const kind = { namespace: 'default', type: StrType };
const str = (id: string, value: string) => newResource<StrSpec>({ ...kind, id }, { value });

describe('remote state', () => {
  it('resumes watches from their bookmarks when the server restarts, losing no events', async () => {
    const { inner, registry } = await registeredState();
    const socket = join(tempDir(), 'state.sock');
    const opts: StateServerOptions = { state: inner, registry, logger: log, listen: [{ unix: socket }, { tcp: '127.0.0.1:0' }] };
    let server: RunningStateServer = await startStateServer(opts);
    const port = server.addresses[1]!.split(':')[1]!;
    const viaUnix = new Client({ endpoints: [`unix://${socket}`], tls: {} });
    const viaTCP = new Client({ endpoints: [`http://127.0.0.1:${port}`], tls: {} });
    const ac = new AbortController();
    try {
      await inner.create(str('a', 'one'));
      const watches = [];
      for (const c of [viaUnix, viaTCP]) {
        const remote = new State(new RemoteState(c.cosi, { registry, retryMs: 20 }));
        const w = await remote.watchKind(kind, { bootstrapContents: true }, ac.signal);
        assert.deepEqual((await takeEvents(w, 2)).map(brief), ['created:a=one', 'bootstrapped:']);
        const single = await remote.watch({ ...kind, id: 'b' }, {}, ac.signal);
        assert.deepEqual((await takeEvents(single, 1)).map(brief), ['destroyed:b']);
        const agg = await remote.watchKindAggregated(kind, {}, ac.signal);
        watches.push({ w, single, agg });
      }
      await inner.create(str('b', 'two'));
      for (const { w, single, agg } of watches) {
        assert.deepEqual((await takeEvents(w, 1)).map(brief), ['created:b=two']);
        assert.deepEqual((await takeEvents(single, 1)).map(brief), ['created:b=two']);
        assert.deepEqual((await takeEvents(agg, 1)).map(brief), ['created:b=two']);
      }
      // the server goes away (watches are cut); changes happen while the watches are disconnected
      server.server.forceShutdown();
      await inner.create(str('c', 'three'));
      await inner.updateWithConflicts({ ...kind, id: 'b' }, (r) => void ((r.spec as StrSpec).value = 'deux'));
      await inner.destroy({ ...kind, id: 'a' });
      server = await startStateServer({ ...opts, listen: [{ unix: socket }, { tcp: `127.0.0.1:${port}` }] });
      for (const { w, single, agg } of watches) {
        assert.deepEqual((await takeEvents(w, 3, 10_000)).map(brief), ['created:c=three', 'updated:b=deux', 'destroyed:a=one']);
        assert.deepEqual((await takeEvents(single, 1, 10_000)).map(brief), ['updated:b=deux']);
        assert.deepEqual((await takeEvents(agg, 3, 10_000)).map(brief), ['created:c=three', 'updated:b=deux', 'destroyed:a=one']);
      }
      // a graceful stop ends the streams; they resume on the next server as well
      await server.close(1000);
      await inner.create(str('d', 'four'));
      server = await startStateServer({ ...opts, listen: [{ unix: socket }, { tcp: `127.0.0.1:${port}` }] });
      for (const { w } of watches) assert.deepEqual((await takeEvents(w, 1, 10_000)).map(brief), ['created:d=four']);
      // typed specs come from the protobuf form through the type's codec
      assert.deepEqual((await new RemoteState(viaUnix.cosi, { registry }).get({ ...kind, id: 'd' })).spec, { value: 'four' });
    } finally {
      ac.abort();
      viaUnix.close();
      viaTCP.close();
      await server.close(1000);
    }
  });

  it('ends a watch with an errored event when the restarted server has a new state', async () => {
    const first = await registeredState();
    const socket = join(tempDir(), 'state.sock');
    let server = await startStateServer({ state: first.inner, registry: first.registry, logger: log, listen: [{ unix: socket }] });
    const client = new Client({ endpoints: [`unix://${socket}`], tls: {} });
    const ac = new AbortController();
    try {
      const remote = new RemoteState(client.cosi, { retryMs: 20 });
      const w = await remote.watchKind(kind, {}, ac.signal);
      await first.inner.create(str('a', 'one'));
      await takeEvents(w, 1);
      server.server.forceShutdown();
      const second = await registeredState();
      server = await startStateServer({ state: second.inner, registry: second.registry, logger: log, listen: [{ unix: socket }] });
      const [ev] = await takeEvents(w, 1, 10_000);
      assert.equal(ev!.type, 'errored');
      assert.match(ev!.error!, /bookmark/);
      assert.equal((await w.next()).done, true);
      // and a watch that never saw a bookmark cannot resume either
      const fresh = await remote.watchKind(kind, {}, ac.signal);
      server.server.forceShutdown();
      const [ev2] = await takeEvents(fresh, 1, 10_000);
      assert.equal(ev2!.type, 'errored');
    } finally {
      ac.abort();
      client.close();
      await server.close(1000);
    }
  });

  it('maps errors to the gRPC codes COSI uses, and back', async () => {
    const { inner, registry } = await registeredState();
    const server = await startStateServer({ state: inner, registry, logger: log, listen: [{ tcp: '127.0.0.1:0' }] });
    const client = new Client({ endpoints: [`http://${server.addresses[0]}`], tls: {} });
    const code = (c: status) => (e: unknown) => e instanceof RpcError && e.grpcCode === c;
    try {
      await inner.create(str('a', 'one'), { owner: 'ctrl' });
      await inner.addFinalizer({ ...kind, id: 'a' }, 'f');
      await assert.rejects(client.cosi.get({ ...kind, id: 'missing' }), code(status.NOT_FOUND));
      await assert.rejects(client.cosi.destroy({ ...kind, id: 'a' }), code(status.PERMISSION_DENIED));
      await assert.rejects(client.cosi.destroy({ ...kind, id: 'a', options: { owner: 'ctrl' } }), code(status.FAILED_PRECONDITION));
      const remote = new State(new RemoteState(client.cosi, { registry }));
      await assert.rejects(remote.get({ ...kind, id: 'missing' }), isNotFound);
      await assert.rejects(remote.watchKind(kind, { startFromBookmark: Buffer.alloc(16) }), isInvalidBookmark);
      await assert.rejects(remote.watchKind(kind, { bootstrapContents: true, tailEvents: 2 }), isUnsupported);
      const msgs: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const m of client.cosi.watch({ ...kind, id: 'a', apiVersion: 1, options: { bootstrapContents: true } })) msgs.push(m.event.length);
        })(),
        code(status.UNIMPLEMENTED),
      );
      assert.deepEqual(msgs, [], 'refused before the first message');
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  it('applies the Talos API policy: no writes, registered types and namespaces only, sensitive types for admins', async () => {
    const { inner, registry } = await registeredState();
    await registry.registerNamespace('network', 'Networking.');
    await registry.registerNamespace('secrets', 'Secrets.');
    await registry.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' });
    await registry.register({ type: 'OSRootSecrets.secrets.talos.dev', defaultNamespace: 'secrets', sensitive: true });
    await inner.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: '' }));
    await inner.create(newResource({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, { token: 'x' }));
    const server = await startStateServer({ state: inner, registry, logger: log, apiPolicy: true, listen: [{ unix: join(tempDir(), 's.sock') }] });
    const client = new Client({ endpoints: [server.addresses[0]!], tls: {} });
    const as = (...roles: string[]) => ({ metadata: { 'talos-role': roles } });
    const denied = (p: Promise<unknown>, msg: string) => assert.rejects(p, (e: unknown) => e instanceof RpcError && e.grpcCode === status.PERMISSION_DENIED && e.details === msg);
    try {
      const r = await client.cosi.get({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, as('os:reader'));
      assert.equal(r.resource!.spec!.yamlSpec, 'hostname: cp-1\ndomainname: ""\n');
      assert.equal(r.resource!.metadata!.version, '1');
      assert.equal(r.resource!.metadata!.phase, 'running');
      await denied(client.cosi.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, as('os:reader')), 'not authorized');
      await denied(client.cosi.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }), 'not authorized');
      const listed = [];
      for await (const m of client.cosi.list({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev' }, as('os:reader', 'os:admin'))) listed.push(m.resource!.metadata!.id);
      assert.deepEqual(listed, ['os']);
      await denied(
        (async () => {
          for await (const _ of client.cosi.watch({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', apiVersion: 1 }, as('os:operator')));
        })(),
        'not authorized',
      );
      await denied(client.cosi.get({ namespace: 'network', type: 'Unknowns.net.talos.dev', id: 'x' }, as('os:admin')), 'resource type "Unknowns.net.talos.dev" is not supported');
      await denied(client.cosi.get({ namespace: 'nowhere', type: 'HostnameStatuses.net.talos.dev', id: 'x' }, as('os:admin')), 'namespace "nowhere" is not supported');
      await denied(client.cosi.destroy({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, as('os:admin')), 'write access is not allowed');
      await denied(client.cosi.create({ resource: { metadata: { namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'x', version: '1', phase: 'running' }, spec: {} } }, as('os:admin')), 'write access is not allowed');
      // the meta resources are readable, as talosctl needs them to resolve types
      const rds = [];
      for await (const m of client.cosi.list({ namespace: 'meta', type: 'ResourceDefinitions.meta.cosi.dev' }, as('os:reader'))) rds.push(m.resource!.metadata!.id);
      assert.ok(rds.includes('osrootsecrets.secrets.talos.dev'));
      // the same policy through the remote state: refusals are access errors
      const remote = new RemoteState(client.cosi, { call: as('os:reader') });
      await assert.rejects(remote.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }), isAccessDenied);
      await assert.rejects(remote.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'y' }, {})), isAccessDenied);
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  it('streams Watch as talosctl expects: an empty first message, a spec on every event, bootstrapped markers', async () => {
    const { inner, registry } = await registeredState();
    await inner.create(str('a', 'one'));
    const server = await startStateServer({ state: inner, registry, logger: log, listen: [{ unix: join(tempDir(), 's.sock') }] });
    const client = new Client({ endpoints: [server.addresses[0]!], tls: {} });
    const ac = new AbortController();
    try {
      const stream = client.cosi.watch({ ...kind, apiVersion: 1, options: { bootstrapContents: true } }, { signal: ac.signal });
      const it = stream[Symbol.asyncIterator]();
      const [ready, created, boot] = await take(it, 3);
      assert.deepEqual(ready!.event, []);
      const c = created!.event[0]!;
      assert.equal(c.eventType, 0);
      assert.equal(c.resource!.metadata!.version, '1');
      assert.equal(c.resource!.spec!.yamlSpec, 'value: one\n');
      assert.deepEqual(strDefinition.fromProto!(c.resource!.spec!.protoSpec), { value: 'one' });
      assert.equal(c.bookmark, undefined, 'bootstrap contents carry no bookmark');
      const b = boot!.event[0]!;
      assert.equal(b.eventType, 3);
      assert.equal(b.resource!.metadata!.version, 'undefined');
      assert.equal(b.resource!.metadata!.id, '');
      assert.equal(b.resource!.metadata!.type, StrType);
      assert.equal(b.resource!.metadata!.phase, 'running');
      assert.ok(b.resource!.spec, 'markers carry a spec');
      assert.equal(b.bookmark!.length, 16);
      await inner.updateWithConflicts({ ...kind, id: 'a' }, (r) => void ((r.spec as StrSpec).value = 'two'));
      const [upd] = await take(it, 1);
      assert.equal(upd!.event[0]!.eventType, 1);
      assert.equal(upd!.event[0]!.old!.spec!.yamlSpec, 'value: one\n');
      stream.cancel();
      // api_version 0: no bootstrapped event; single watch of a missing resource: a destroyed tombstone with a spec
      const old = client.cosi.watch({ ...kind, apiVersion: 0, options: { bootstrapContents: true } }, { signal: ac.signal })[Symbol.asyncIterator]();
      await take(old, 2);
      await inner.create(str('b', 'x'));
      const [next] = await take(old, 1);
      assert.equal(next!.event[0]!.resource!.metadata!.id, 'b', 'the bootstrapped marker was dropped');
      const single = client.cosi.watch({ ...kind, id: 'nope', apiVersion: 1 }, { signal: ac.signal })[Symbol.asyncIterator]();
      const [, gone] = await take(single, 2);
      assert.equal(gone!.event[0]!.eventType, 2);
      assert.equal(gone!.event[0]!.resource!.metadata!.id, 'nope');
      assert.equal(gone!.event[0]!.resource!.metadata!.version, 'undefined');
      assert.ok(gone!.event[0]!.resource!.spec);
      // aggregated: the bootstrap arrives as one message
      const agg = client.cosi.watch({ ...kind, apiVersion: 1, options: { bootstrapContents: true, aggregated: true } }, { signal: ac.signal })[Symbol.asyncIterator]();
      const [, all] = await take(agg, 2);
      assert.deepEqual(all!.event.map((e) => [e.eventType, e.resource!.metadata!.id]), [
        [0, 'a'],
        [0, 'b'],
        [3, ''],
      ]);
    } finally {
      ac.abort();
      client.close();
      await server.close(1000);
    }
  });

  it('serves a filtered read-only view to apid and trustd', async () => {
    const { inner, registry } = await registeredState();
    await inner.create(str('api', 'cert'));
    await inner.create(str('other', 'secret'));
    const view = readOnlyView(inner, [{ ...kind, id: 'api' }]);
    const server = await startStateServer({ state: view, registry, logger: log, listen: [{ unix: join(tempDir(), 'apid.sock') }] });
    const client = new Client({ endpoints: [server.addresses[0]!], tls: {} });
    const ac = new AbortController();
    try {
      const remote = new State(new RemoteState(client.cosi, { registry }));
      assert.equal(((await remote.get({ ...kind, id: 'api' })).spec as StrSpec).value, 'cert');
      await assert.rejects(remote.get({ ...kind, id: 'other' }), isAccessDenied);
      await assert.rejects(remote.list(kind), isAccessDenied);
      await assert.rejects(remote.destroy({ ...kind, id: 'api' }), isAccessDenied);
      const w = await remote.watch({ ...kind, id: 'api' }, {}, ac.signal);
      assert.deepEqual((await takeEvents(w, 1)).map(brief), ['created:api=cert']);
      await inner.updateWithConflicts({ ...kind, id: 'api' }, (r) => void ((r.spec as StrSpec).value = 'renewed'));
      assert.deepEqual((await takeEvents(w, 1)).map(brief), ['updated:api=renewed']);
    } finally {
      ac.abort();
      client.close();
      await server.close(1000);
    }
  });
});
