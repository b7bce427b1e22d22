import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type handleServerStreamingCall, type handleUnaryCall, Server, ServerCredentials, status } from '@grpc/grpc-js';
import pino from 'pino';
import type { Data } from '../../src/api/gen/common/common.js';
import type { Empty } from '../../src/api/gen/google/protobuf/empty.js';
import {
  type ApplyConfigurationRequest,
  type ApplyConfigurationResponse,
  type HostnameResponse,
  type LogsRequest,
  MachineServiceService,
  type RebootResponse,
  type VersionResponse,
} from '../../src/api/gen/machine/machine.js';
import { Apid } from '../../src/apid/server.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { nodeResults, nodeStream } from '../../src/client/results.js';
import { freePort } from '../helpers/ports.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';

const ADDRS = ['127.77.0.2', '127.77.0.3', '127.77.0.4'];

/** A machined stand-in on a unix socket that says which node it is and which roles apid passed on. */
async function startBackend(name: string, socket: string): Promise<Server> {
  const s = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const version: handleUnaryCall<Empty, VersionResponse> = (call, cb) =>
    cb(null, { messages: [{ metadata: undefined, version: { tag: name, sha: call.metadata.get('talos-role').join(','), built: '', goVersion: '', os: 'linux', arch: 'amd64' }, platform: undefined, features: undefined }] });
  const hostname: handleUnaryCall<Empty, HostnameResponse> = (_c, cb) => cb(null, { messages: [{ metadata: undefined, hostname: name }] });
  const reboot: handleUnaryCall<unknown, RebootResponse> = (_c, cb) => cb(null, { messages: [{ metadata: undefined, actorId: 'x' }] });
  const apply: handleUnaryCall<ApplyConfigurationRequest, ApplyConfigurationResponse> = (call, cb) =>
    cb(null, { messages: [{ metadata: undefined, warnings: [String(call.request.data.length)], mode: 0, modeDetails: '' }] });
  const logs: handleServerStreamingCall<LogsRequest, Data> = (call) => {
    for (let i = 0; i < 3; i++) call.write({ metadata: undefined, bytes: Buffer.from(`${name} ${call.request.id} ${i}\n`) });
    if (!call.request.follow) call.end();
  };
  s.addService(MachineServiceService, { version, hostname, reboot, applyConfiguration: apply, logs });
  await new Promise<void>((resolve, reject) => s.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return s;
}


describe('apid routing on three loopback nodes', () => {
  let pki: TestPKI;
  let dir: string;
  let port: number;
  const backends: Server[] = [];
  const apids: Apid[] = [];
  let impersonator: { crt: string; key: string };
  let reader: { crt: string; key: string };
  const logger = pino({ level: 'silent' });

  before(async () => {
    pki = makeTestPKI([...ADDRS.map((a) => `IP:${a}`), 'IP:127.0.0.1']);
    impersonator = pki.issueClient('cp-impersonator', ['os:impersonator']);
    reader = pki.issueClient('reader', ['os:reader']);
    dir = mkdtempSync(join(tmpdir(), 'bronze-apid-'));
    port = await freePort(ADDRS[0]!);
    for (const [i, addr] of ADDRS.entries()) {
      const sock = join(dir, `machined-${i}.sock`);
      backends.push(await startBackend(`node-${i}`, sock));
      // the last node is a worker: no client certificate, so it does not forward
      const worker = i === ADDRS.length - 1;
      const apid = new Apid({
        listen: `${addr}:${port}`,
        tls: { cert: pki.serverCrt, key: pki.serverKey, acceptedCAs: pki.caCrt },
        machinedSocket: sock,
        peerTLS: worker ? undefined : { ca: pki.caCrt, cert: impersonator.crt, key: impersonator.key },
        peerPort: port,
        isLocal: (t) => t === addr,
        logger,
      });
      await apid.start();
      apids.push(apid);
    }
  });

  after(async () => {
    await Promise.all(apids.map((a) => a.stop(1000)));
    await Promise.all(backends.map((b) => new Promise<void>((r) => b.tryShutdown(() => r()))));
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  });

  const admin = (endpoint = ADDRS[0]!) => new Client({ endpoints: [`${endpoint}:${port}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey } });

  it('sends a call without routing keys to the local machined with the caller\'s roles', async () => {
    const c = admin();
    try {
      const r = await c.machine.version();
      assert.equal(r.messages.length, 1);
      assert.equal(r.messages[0]!.version!.tag, 'node-0');
      assert.equal(r.messages[0]!.version!.sha, 'os:admin');
      assert.equal(r.messages[0]!.metadata, undefined);
    } finally {
      c.close();
    }
  });

  it('fans out to three nodes with one labelled message each', async () => {
    const c = admin();
    try {
      const r = await c.machine.version({}, { nodes: ADDRS });
      assert.deepEqual(
        r.messages.map((m) => [m.metadata?.hostname, m.version?.tag, m.version?.sha]),
        ADDRS.map((a, i) => [a, `node-${i}`, 'os:admin']),
      );
      const h = nodeResults(await c.machine.hostname({}, { nodes: ADDRS }));
      assert.deepEqual(h.messages.map((m) => m.value.hostname), ['node-0', 'node-1', 'node-2']);
      assert.equal(h.errors.length, 0);
    } finally {
      c.close();
    }
  });

  it('proxies node one-to-one without metadata', async () => {
    const c = admin();
    try {
      const r = await c.machine.version({}, { node: ADDRS[1]! });
      assert.equal(r.messages[0]!.version!.tag, 'node-1');
      assert.equal(r.messages[0]!.metadata, undefined);
    } finally {
      c.close();
    }
  });

  it('merges fanned-out streams, labelled per node', async () => {
    const c = admin();
    try {
      const lines: string[] = [];
      for await (const item of nodeStream(c.machine.logs({ namespace: 'system', id: 'apid' }, { nodes: ADDRS.slice(0, 2) }))) {
        lines.push(`${item.node}|${Buffer.from(item.value!.bytes).toString().trim()}`);
      }
      assert.deepEqual(lines.sort(), [
        `${ADDRS[0]}|node-0 apid 0`,
        `${ADDRS[0]}|node-0 apid 1`,
        `${ADDRS[0]}|node-0 apid 2`,
        `${ADDRS[1]}|node-1 apid 0`,
        `${ADDRS[1]}|node-1 apid 1`,
        `${ADDRS[1]}|node-1 apid 2`,
      ]);
    } finally {
      c.close();
    }
  });

  it('gives a dead node its own error entry while the others answer', async () => {
    const c = admin();
    const dead = '127.77.0.9';
    try {
      const r = nodeResults(await c.machine.hostname({}, { nodes: [ADDRS[0]!, dead, ADDRS[1]!], timeout: 15_000 }));
      assert.deepEqual(r.messages.map((m) => m.node), [ADDRS[0], ADDRS[1]]);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.node, dead);
      assert.equal(r.errors[0]!.grpcCode, status.UNAVAILABLE);
      const items = [];
      for await (const it of nodeStream(c.machine.logs({ id: 'x' }, { nodes: [dead, ADDRS[1]!], timeout: 15_000 }))) items.push(it);
      assert.equal(items.filter((i) => i.error).length, 1);
      assert.equal(items.filter((i) => i.error)[0]!.node, dead);
      assert.equal(items.filter((i) => !i.error).length, 3);
    } finally {
      c.close();
    }
  });

  it('a worker answers for itself but does not forward', async () => {
    const c = admin(ADDRS[2]);
    try {
      assert.equal((await c.machine.version({}, { node: ADDRS[2]! })).messages[0]!.version!.tag, 'node-2');
      await assert.rejects(c.machine.version({}, { node: ADDRS[0]! }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.PERMISSION_DENIED && e.details === 'no request forwarding');
    } finally {
      c.close();
    }
  });

  it('lets a reader read and refuses it Reboot', async () => {
    const c = new Client({ endpoints: [`${ADDRS[0]}:${port}`], tls: { ca: pki.caCrt, crt: reader.crt, key: reader.key } });
    try {
      assert.equal((await c.machine.version()).messages[0]!.version!.sha, 'os:reader');
      // roles travel to peers too: the peer's machined sees the reader, not the forwarding apid
      assert.equal((await c.machine.version({}, { nodes: [ADDRS[1]!] })).messages[0]!.version!.sha, 'os:reader');
      await assert.rejects(c.machine.reboot(), (e: unknown) => e instanceof RpcError && e.grpcCode === status.PERMISSION_DENIED && e.details === 'not authorized');
    } finally {
      c.close();
    }
  });

  it('refuses callers without a certificate or with a foreign one', async () => {
    const none = new Client({ endpoints: [`${ADDRS[0]}:${port}`], tls: { ca: pki.caCrt } });
    const foreign = new Client({ endpoints: [`${ADDRS[0]}:${port}`], tls: { ca: pki.caCrt, crt: pki.foreignClientCrt, key: pki.foreignClientKey } });
    try {
      await assert.rejects(none.machine.version({}, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNAVAILABLE);
      await assert.rejects(foreign.machine.version({}, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNAVAILABLE);
    } finally {
      none.close();
      foreign.close();
    }
  });

  it('refuses a certificate without the client auth usage', async () => {
    const server = pki.issueClient('server-as-client', ['os:admin'], 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
    const c = new Client({ endpoints: [`${ADDRS[0]}:${port}`], tls: { ca: pki.caCrt, crt: server.crt, key: server.key } });
    try {
      await assert.rejects(c.machine.version(), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNAUTHENTICATED && /missing the client auth extended key usage/.test(e.details));
    } finally {
      c.close();
    }
  });

  it('passes 30 MiB and refuses 33 MiB with ResourceExhausted', async () => {
    const c = admin();
    try {
      const ok = await c.machine.applyConfiguration({ data: Buffer.alloc(30 * 1024 * 1024, 0x61) });
      assert.equal(ok.messages[0]!.warnings[0], String(30 * 1024 * 1024));
      await assert.rejects(c.machine.applyConfiguration({ data: Buffer.alloc(33 * 1024 * 1024, 0x61) }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.RESOURCE_EXHAUSTED);
    } finally {
      c.close();
    }
  });

  it('ends a call it fails to take on with INTERNAL, and the connection serves the next call', async () => {
    const sock = join(dir, 'machined-3.sock');
    backends.push(await startBackend('node-3', sock));
    const odd = new Apid({
      listen: '127.0.0.1:0',
      tls: { cert: pki.serverCrt, key: pki.serverKey, acceptedCAs: pki.caCrt },
      machinedSocket: sock,
      // a worker: it asks whether a target is itself, and that question fails here
      isLocal: (t) => {
        if (t === 'boom') throw new Error('cannot tell');
        return false;
      },
      logger,
    });
    const oddPort = await odd.start();
    apids.push(odd);
    const c = new Client({ endpoints: [`127.0.0.1:${oddPort}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey } });
    try {
      await assert.rejects(c.machine.version({}, { node: 'boom' }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.INTERNAL && /cannot tell/.test(e.message));
      assert.equal((await c.machine.version()).messages[0]!.version!.tag, 'node-3');
    } finally {
      c.close();
    }
  });

  it('refuses fan-out of COSI calls and multi-valued node', async () => {
    const c = admin();
    try {
      await assert.rejects(c.cosi.get({ namespace: 'network', type: 'T', id: 'x' }, { nodes: ADDRS }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.INVALID_ARGUMENT);
    } finally {
      c.close();
    }
  });
});
