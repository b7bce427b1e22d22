import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import pino from 'pino';
import { StateService } from '../../api/gen/cosi/state.js';
import { Client } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import { takeEvents, stateConformance } from '../conformance/state-suite.js';
import { InMemoryState } from '../inmem.js';
import { Registry } from '../registry.js';
import { newResource } from '../resource.js';
import { State } from '../state.js';
import { RemoteState } from './client.js';
import { type StateServiceOptions, stateService } from './server.js';

const log = pino({ level: 'silent' });

async function serve(socket: string, opts: StateServiceOptions): Promise<Server> {
  const server = new Server();
  server.addService(StateService, stateService(opts));
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return server;
}

const shutdown = (s: Server) => new Promise<void>((r) => s.tryShutdown(() => r()));

stateConformance('remote over gRPC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bronze-cosi-'));
  const inner = new State(new InMemoryState());
  const registry = new Registry(inner);
  const server = await serve(join(dir, 'state.sock'), { state: inner, registry, logger: log });
  const client = new Client({ endpoints: [`unix://${join(dir, 'state.sock')}`], tls: {} });
  return {
    state: new RemoteState(client.cosi, { retryMs: 20 }),
    cleanup: async () => {
      client.close();
      await shutdown(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('remote state', () => {
  it('resumes watches from their bookmark when the server restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-cosi-'));
    const socket = join(dir, 'state.sock');
    const inner = new State(new InMemoryState());
    const registry = new Registry(inner);
    let server = await serve(socket, { state: inner, registry, logger: log });
    const client = new Client({ endpoints: [`unix://${socket}`], tls: {} });
    const remote = new State(new RemoteState(client.cosi, { retryMs: 20 }));
    const kind = { namespace: 'n', type: 'Things.test.bronze.dev' };
    const ac = new AbortController();
    try {
      await inner.create(newResource({ ...kind, id: 'a' }, { v: 1 }));
      const w = remote.watchKind(kind, { bootstrapContents: true, bootstrapBookmark: true }, ac.signal)[Symbol.asyncIterator]();
      assert.deepEqual((await takeEvents(w, 2)).map((e) => [e.type, e.resource?.metadata.id ?? '']), [
        ['created', 'a'],
        ['bootstrapped', ''],
      ]);
      await inner.create(newResource({ ...kind, id: 'b' }, { v: 2 }));
      assert.deepEqual((await takeEvents(w, 1)).map((e) => [e.type, e.resource?.metadata.id]), [['created', 'b']]);
      // the server goes away; changes happen while the watch is disconnected
      server.forceShutdown();
      await inner.create(newResource({ ...kind, id: 'c' }, { v: 3 }));
      await inner.destroy({ ...kind, id: 'a' });
      server = await serve(socket, { state: inner, registry, logger: log });
      const evs = await takeEvents(w, 2, 10_000);
      assert.deepEqual(evs.map((e) => [e.type, e.resource?.metadata.id]), [
        ['created', 'c'],
        ['destroyed', 'a'],
      ]);
      assert.deepEqual((evs[0]!.resource!.spec as { v: number }).v, 3);
    } finally {
      ac.abort();
      client.close();
      await shutdown(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies the Talos API policy: no writes, registered types and namespaces only, sensitive types for admins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-cosi-'));
    const socket = join(dir, 'state.sock');
    const inner = new State(new InMemoryState());
    const registry = new Registry(inner);
    await registry.init();
    await registry.registerNamespace('network', 'Networking.');
    await registry.registerNamespace('secrets', 'Secrets.');
    await registry.register({ type: 'HostnameStatuses.net.talos.dev', defaultNamespace: 'network' });
    await registry.register({ type: 'OSRootSecrets.secrets.talos.dev', defaultNamespace: 'secrets', sensitive: true });
    await inner.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: '' }));
    await inner.create(newResource({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, { token: 'x' }));
    const server = await serve(socket, { state: inner, registry, logger: log, apiPolicy: true });
    const client = new Client({ endpoints: [`unix://${socket}`], tls: {} });
    const as = (role: string) => ({ metadata: { 'talos-role': role } });
    try {
      const r = await client.cosi.get({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, as('os:reader'));
      assert.equal(r.resource!.spec!.yamlSpec, 'hostname: cp-1\ndomainname: ""\n');
      assert.equal(r.resource!.metadata!.version, '1');
      assert.equal(r.resource!.metadata!.phase, 'running');
      const denied = (p: Promise<unknown>, msg: string) => assert.rejects(p, (e: unknown) => e instanceof RpcError && e.grpcCode === status.PERMISSION_DENIED && e.details === msg);
      await denied(client.cosi.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, as('os:reader')), 'not authorized');
      assert.ok((await client.cosi.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, as('os:admin'))).resource);
      await denied(client.cosi.get({ namespace: 'network', type: 'Unknowns.net.talos.dev', id: 'x' }, as('os:admin')), 'resource type "Unknowns.net.talos.dev" is not supported');
      await denied(client.cosi.get({ namespace: 'nowhere', type: 'HostnameStatuses.net.talos.dev', id: 'x' }, as('os:admin')), 'namespace "nowhere" is not supported');
      await denied(client.cosi.destroy({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, as('os:admin')), 'write access is not allowed');
      // the Watch stream talosctl expects: an empty first message, then events with a spec on every one
      const msgs = [];
      const ac = new AbortController();
      for await (const m of client.cosi.watch({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', apiVersion: 1, options: { bootstrapContents: true } }, { ...as('os:reader'), signal: ac.signal })) {
        msgs.push(m);
        if (msgs.length === 3) ac.abort();
      }
      assert.equal(msgs[0]!.event.length, 0);
      assert.equal(msgs[1]!.event[0]!.eventType, 0);
      assert.equal(msgs[2]!.event[0]!.eventType, 3);
      assert.equal(msgs[2]!.event[0]!.resource!.metadata!.version, 'undefined');
      assert.equal(msgs[2]!.event[0]!.resource!.metadata!.id, '');
      assert.ok(msgs[2]!.event[0]!.resource!.spec, 'tombstones carry a spec');
    } finally {
      client.close();
      await shutdown(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
