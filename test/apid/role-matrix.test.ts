import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import pino from 'pino';
import { allRoles, isAuthorized } from '../../src/api/roles.js';
import { type MethodInfo, methods, services } from '../../src/api/services.js';
import { Apid } from '../../src/apid/server.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';
import { freePort } from '../helpers/ports.js';

const ADDRESS = '127.77.12.2';
const raw = (b: Buffer) => b;

/** A machined stand-in that answers every method of the API with an empty message (or an empty stream). */
async function startAnyBackend(socket: string, served: Set<string>): Promise<Server> {
  const s = new Server();
  for (const svc of services) {
    for (const def of Object.values(svc.definition)) {
      const m = methods().get(def.path)!;
      const seen = () => served.add(m.path);
      const handler = {
        unary: (_c: unknown, cb: (e: null, r: Buffer) => void) => {
          seen();
          cb(null, Buffer.alloc(0));
        },
        server_stream: (c: { end(): void }) => {
          seen();
          c.end();
        },
        client_stream: (c: { on(ev: string, f: () => void): void; resume(): void }, cb: (e: null, r: Buffer) => void) => {
          seen();
          c.on('end', () => cb(null, Buffer.alloc(0)));
          c.resume();
        },
        bidi_stream: (c: { end(): void }) => {
          seen();
          c.end();
        },
      }[m.kind];
      const type = { unary: 'unary', server_stream: 'serverStream', client_stream: 'clientStream', bidi_stream: 'bidi' }[m.kind];
      s.register(m.path, handler as never, raw, raw, type);
    }
  }
  await new Promise<void>((resolve, reject) => s.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return s;
}

/** Calls a method with an empty message through a raw channel; resolves with the final status code. */
function call(client: Client, m: MethodInfo): Promise<{ code: status; details: string }> {
  return new Promise((resolve) => {
    const done = (e: ServiceError | null) => resolve({ code: e?.code ?? status.OK, details: e?.details ?? '' });
    const opts = { deadline: Date.now() + 10_000 };
    const md = new Metadata();
    if (m.kind === 'unary') client.makeUnaryRequest(m.path, raw, raw, Buffer.alloc(0), md, opts, (e) => done(e));
    else if (m.kind === 'client_stream') client.makeClientStreamRequest(m.path, raw, raw, md, opts, (e) => done(e)).end();
    else {
      const s = m.kind === 'server_stream' ? client.makeServerStreamRequest(m.path, raw, raw, Buffer.alloc(0), md, opts) : client.makeBidiStreamRequest(m.path, raw, raw, md, opts);
      if (m.kind === 'bidi_stream') (s as unknown as { end(): void }).end();
      s.on('data', () => {});
      s.on('error', () => {});
      s.on('status', (st: { code: status; details: string }) => resolve({ code: st.code, details: st.details }));
    }
  });
}

/**
 * Every method apid serves, called through apid by a client holding each role in turn: apid lets through exactly
 * what the role table allows (checked against Talos's table in src/api/roles.test.ts) and refuses the rest with
 * PermissionDenied `not authorized` before machined sees the call.
 */
describe('apid role matrix', () => {
  let pki: TestPKI;
  let dir: string;
  let backend: Server;
  let apid: Apid;
  const served = new Set<string>();
  const clients = new Map<string, Client>();

  before(async () => {
    pki = makeTestPKI([`IP:${ADDRESS}`]);
    dir = mkdtempSync(join(tmpdir(), 'bronze-roles-'));
    backend = await startAnyBackend(join(dir, 'machine.sock'), served);
    const port = await freePort(ADDRESS);
    apid = new Apid({ listen: `${ADDRESS}:${port}`, tls: { cert: pki.serverCrt, key: pki.serverKey, acceptedCAs: pki.caCrt }, machinedSocket: join(dir, 'machine.sock'), logger: pino({ level: 'silent' }) });
    await apid.start();
    for (const role of allRoles) {
      const c = pki.issueClient(role.replace(/:/g, '-'), [role]);
      const creds = credentials.createSsl(Buffer.from(pki.caCrt), Buffer.from(c.key), Buffer.from(c.crt));
      clients.set(role, new Client(`${ADDRESS}:${port}`, creds));
    }
  });

  after(async () => {
    for (const c of clients.values()) c.close();
    await apid?.stop(1000);
    await new Promise<void>((r) => backend.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  });

  it('lets each role call exactly what the table allows', { timeout: 120_000 }, async () => {
    const apidMethods = services.filter((s) => s.apid).flatMap((s) => Object.values(s.definition).map((d) => methods().get(d.path)!));
    assert.ok(apidMethods.length >= 74, `${apidMethods.length} methods`);
    const mismatches: string[] = [];
    let allowed = 0;
    for (const role of allRoles) {
      const client = clients.get(role)!;
      for (const m of apidMethods) {
        const want = isAuthorized(m.path, [role]);
        served.delete(m.path);
        const got = await call(client, m);
        const passed = got.code === status.OK && served.has(m.path);
        const refused = got.code === status.PERMISSION_DENIED && got.details === 'not authorized' && !served.has(m.path);
        if (want ? !passed : !refused) mismatches.push(`${role} ${m.path}: want ${want ? 'allowed' : 'refused'}, got ${status[got.code]} ${got.details}`);
        if (want) allowed++;
      }
    }
    assert.deepEqual(mismatches, []);
    // admin opens everything; the other roles a part of it
    assert.ok(allowed > apidMethods.length && allowed < apidMethods.length * allRoles.length, `${allowed} allowed calls`);
  });
});
