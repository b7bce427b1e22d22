import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type handleServerStreamingCall, type handleUnaryCall, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import pino from 'pino';
import type { Empty } from '../../src/api/gen/google/protobuf/empty.js';
import { type Event, type EventsRequest, MachineServiceService, type VersionResponse } from '../../src/api/gen/machine/machine.js';
import { runApid } from '../../src/apid/main.js';
import { Client } from '../../src/client/client.js';
import { type RunningStateServer, startStateServer } from '../../src/cosi/api/server.js';
import { InMemoryState } from '../../src/cosi/inmem.js';
import { Registry } from '../../src/cosi/registry.js';
import { newResource } from '../../src/cosi/resource.js';
import { State } from '../../src/cosi/state.js';
import { registerAll } from '../../src/resources/index.js';
import { APIServiceConfigID, APIServiceConfigType } from '../../src/resources/runtime/api-service-config.js';
import { ApiCertificatesID, ApiCertificatesType } from '../../src/resources/secrets/api-certificates.js';
import { freePort } from '../helpers/ports.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';


/** apid as a process reads its settings and certificates from machined's state and follows their changes. */
describe('apid main', () => {
  let pki: TestPKI;
  let dir: string;
  let stateServer: RunningStateServer;
  let machined: Server;
  const state = new State(new InMemoryState());
  const ac = new AbortController();
  let running: Promise<void>;
  const serving: { listen: string; port: number }[] = [];
  let servingChanged: () => void = () => {};
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  /** open Events streams on the fake machined, fed by the tests */
  const eventStreams: ServerWritableStream<EventsRequest, Event>[] = [];
  let eventStreamOpened: () => void = () => {};
  const cfgPtr = { namespace: 'runtime', type: APIServiceConfigType, id: APIServiceConfigID };
  const certPtr = { namespace: 'secrets', type: ApiCertificatesType, id: ApiCertificatesID };

  before(async () => {
    pki = makeTestPKI(['IP:127.77.1.2']);
    dir = mkdtempSync(join(tmpdir(), 'bronze-apidmain-'));
    const registry = new Registry(state);
    await registerAll(registry);
    stateServer = await startStateServer({ state, registry, logger: pino({ level: 'silent' }), listen: [{ unix: join(dir, 'apid-state.sock') }] });
    machined = new Server();
    const version: handleUnaryCall<Empty, VersionResponse> = (_c, cb) => cb(null, { messages: [{ metadata: undefined, version: { tag: 'v-test', sha: '', built: '', goVersion: '', os: '', arch: '' }, platform: undefined, features: undefined }] });
    const events: handleServerStreamingCall<EventsRequest, Event> = (call) => {
      eventStreams.push(call);
      eventStreamOpened();
    };
    machined.addService(MachineServiceService, { version, events });
    await new Promise<void>((resolve, reject) => machined.bindAsync(`unix:${join(dir, 'machine.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    running = runApid({
      stateSocket: join(dir, 'apid-state.sock'),
      machinedSocket: join(dir, 'machine.sock'),
      logger: pino({ level: 'silent' }),
      signal: ac.signal,
      onServing: (listen, port) => {
        serving.push({ listen, port });
        servingChanged();
      },
    });
  });

  after(async () => {
    ac.abort();
    await running;
    await stateServer.close(500);
    for (const c of eventStreams) c.end();
    await new Promise<void>((r) => machined.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  });

  const nextServing = (n: number) =>
    new Promise<void>((resolve) => {
      servingChanged = () => serving.length >= n && resolve();
      servingChanged();
    });

  it('serves once its settings and certificates exist, and moves when the listen address changes', async () => {
    const port1 = await freePort('127.77.1.2');
    await state.create(newResource(certPtr, { server: { crt: b64(pki.serverCrt), key: b64(pki.serverKey) }, acceptedCAs: [{ crt: b64(pki.caCrt) }] }));
    await state.create(newResource(cfgPtr, { listenAddress: `127.77.1.2:${port1}`, nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false }));
    await nextServing(1);
    const client = (port: number) => new Client({ endpoints: [`127.77.1.2:${port}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey } });
    const c1 = client(port1);
    try {
      assert.equal((await c1.machine.version({}, { timeout: 10_000 })).messages[0]!.version!.tag, 'v-test');
    } finally {
      c1.close();
    }
    const port2 = await freePort('127.77.1.2');
    await state.updateWithConflicts(cfgPtr, (r) => {
      (r.spec as { listenAddress: string }).listenAddress = `127.77.1.2:${port2}`;
    });
    await nextServing(2);
    assert.deepEqual(serving.map((s) => s.port), [port1, port2]);
    const c2 = client(port2);
    const old = client(port1);
    try {
      assert.equal((await c2.machine.version({}, { timeout: 10_000 })).messages[0]!.version!.tag, 'v-test');
      await assert.rejects(old.machine.version({}, { timeout: 3000 }));
    } finally {
      c2.close();
      old.close();
    }
  });

  it('swaps its certificate when it rotates, keeping open streams', { timeout: 30_000 }, async () => {
    const port = serving.at(-1)!.port;
    const serialSeen = () =>
      new Promise<string>((resolve, reject) => {
        const sock = tlsConnect({ host: '127.77.1.2', port, rejectUnauthorized: false, ALPNProtocols: ['h2'], cert: pki.clientCrt, key: pki.clientKey }, () => {
          resolve(sock.getPeerCertificate().serialNumber);
          sock.destroy();
        });
        sock.once('error', reject);
      });
    const before = await serialSeen();
    const c = new Client({ endpoints: [`127.77.1.2:${port}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey } });
    const ac2 = new AbortController();
    try {
      const opened = new Promise<void>((r) => (eventStreamOpened = r));
      const it = c.machine.events({ tailEvents: 0 }, { signal: ac2.signal })[Symbol.asyncIterator]();
      const first = it.next();
      await opened;
      eventStreams.at(-1)!.write({ metadata: undefined, data: undefined, id: 'before-rotation', actorId: '' });
      assert.equal((await first).value?.id, 'before-rotation');

      const next = pki.issueClient('server-2', ['server'], 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.77.1.2\n');
      await state.updateWithConflicts(certPtr, (r) => {
        (r.spec as { server: { crt: string; key: string } }).server = { crt: b64(next.crt), key: b64(next.key) };
      });
      // new handshakes get the new certificate once apid has seen the change (bounded by the test's timeout)
      let after = before;
      while (after === before) after = await serialSeen();
      assert.notEqual(after, before);

      // the stream opened before the rotation still delivers
      eventStreams.at(-1)!.write({ metadata: undefined, data: undefined, id: 'after-rotation', actorId: '' });
      assert.equal((await it.next()).value?.id, 'after-rotation');
      // and new calls verify the new certificate against the same CA
      const fresh = new Client({ endpoints: [`127.77.1.2:${port}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey } });
      try {
        assert.equal((await fresh.machine.version({}, { timeout: 10_000 })).messages[0]!.version!.tag, 'v-test');
      } finally {
        fresh.close();
      }
    } finally {
      ac2.abort();
      c.close();
    }
  });
});
