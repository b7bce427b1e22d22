import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer as createNetServer } from 'node:net';
import { type handleClientStreamingCall, type handleServerStreamingCall, type handleUnaryCall, Server, ServerCredentials, status } from '@grpc/grpc-js';
import { makeTestPKI, type TestPKI } from '../../test/helpers/openssl-pki.js';
import type { Data } from '../api/gen/common/common.js';
import {
  type EtcdRecoverResponse,
  type HostnameResponse,
  type LogsRequest,
  MachineServiceService,
  type VersionResponse,
} from '../api/gen/machine/machine.js';
import type { Empty } from '../api/gen/google/protobuf/empty.js';
import { Client } from './client.js';
import { ClientError, RpcError } from './errors.js';
import { nodeResults, nodeStream } from './results.js';

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('Client against an mTLS gRPC server', () => {
  let pki: TestPKI;
  let server: Server;
  let port: number;
  const seen: { nodes?: string; node?: string; peerCert?: boolean }[] = [];

  before(async () => {
    pki = makeTestPKI();
    server = new Server();
    const version: handleUnaryCall<Empty, VersionResponse> = (call, cb) => {
      seen.push({ nodes: call.metadata.get('nodes').join(','), node: call.metadata.get('node').join(',') });
      cb(null, {
        messages: [
          {
            metadata: undefined,
            version: { tag: 'v1.13.9', sha: 'abc', built: '', goVersion: '', os: 'linux', arch: 'amd64' },
            platform: { name: 'metal', mode: 'metal' },
            features: { rbac: true },
          },
        ],
      });
    };
    // a fanned-out answer as apid would build it: one node answered, one failed
    const hostname: handleUnaryCall<Empty, HostnameResponse> = (_call, cb) => {
      cb(null, {
        messages: [
          { metadata: { hostname: '10.5.0.2', error: '', status: undefined }, hostname: 'cp-1' },
          { metadata: { hostname: '10.5.0.3', error: 'connection refused', status: { code: status.UNAVAILABLE, message: 'connection refused', details: [] } }, hostname: '' },
        ],
      });
    };
    const logs: handleServerStreamingCall<LogsRequest, Data> = (call) => {
      if (call.request.follow) {
        call.write({ metadata: undefined, bytes: Buffer.from('first\n') });
        return; // keeps streaming until the client cancels
      }
      for (let i = 0; i < 3; i++) call.write({ metadata: undefined, bytes: Buffer.from(`${call.request.id} line ${i}\n`) });
      call.end();
    };
    const etcdRecover: handleClientStreamingCall<Data, EtcdRecoverResponse> = (call, cb) => {
      let total = 0;
      call.on('data', (d: Data) => (total += d.bytes.length));
      call.on('end', () => cb(null, { messages: [{ metadata: { hostname: String(total), error: '', status: undefined } }] }));
    };
    const never: handleUnaryCall<Empty, unknown> = () => {};
    server.addService(MachineServiceService, { version, hostname, logs, etcdRecover, memory: never });
    const creds = ServerCredentials.createSsl(Buffer.from(pki.caCrt), [{ cert_chain: Buffer.from(pki.serverCrt), private_key: Buffer.from(pki.serverKey) }], true);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
  });

  after(async () => {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    pki.cleanup();
  });

  const client = (endpoints: string[], extra: Partial<ConstructorParameters<typeof Client>[0]> = {}) =>
    new Client({ endpoints, tls: { ca: pki.caCrt, crt: pki.clientCrt, key: pki.clientKey }, ...extra });

  it('makes a typed unary call over mTLS with default port handling and nodes metadata', async () => {
    const c = client([`127.0.0.1:${port}`], { nodes: ['10.0.0.1', '10.0.0.2'] });
    try {
      const res = await c.machine.version();
      assert.equal(res.messages.length, 1);
      assert.equal(res.messages[0]!.version!.tag, 'v1.13.9');
      assert.equal(res.messages[0]!.platform!.name, 'metal');
      // repeated `nodes` headers reach a Node server joined with ", "
      assert.equal(seen.at(-1)!.nodes, '10.0.0.1, 10.0.0.2');
      await c.machine.version({}, { node: '10.0.0.9' });
      assert.deepEqual(seen.at(-1), { nodes: '', node: '10.0.0.9' });
    } finally {
      c.close();
    }
  });

  it('loads a key under Talos\'s ED25519 PRIVATE KEY label', async () => {
    const talosKey = pki.clientKey.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '-----$1 ED25519 PRIVATE KEY-----');
    assert.match(talosKey, /ED25519 PRIVATE KEY/);
    const c = new Client({ endpoints: [`127.0.0.1:${port}`], tls: { ca: pki.caCrt, crt: pki.clientCrt, key: talosKey } });
    try {
      assert.equal((await c.machine.version()).messages[0]!.version!.sha, 'abc');
    } finally {
      c.close();
    }
  });

  it('fails over from an unreachable endpoint to the next one', async () => {
    const dead = await closedPort();
    const c = client([`127.0.0.1:${dead}`, `127.0.0.1:${port}`]);
    try {
      const res = await c.machine.version({}, { timeout: 10_000 });
      assert.equal(res.messages[0]!.version!.os, 'linux');
    } finally {
      c.close();
    }
  });

  it('names the endpoint when none can be reached', async () => {
    const dead = await closedPort();
    const c = client([`127.0.0.1:${dead}`]);
    try {
      await assert.rejects(c.machine.version({}, { timeout: 10_000 }), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.grpcCode, status.UNAVAILABLE);
        assert.equal(e.endpoint, `127.0.0.1:${dead}`);
        assert.ok(e instanceof ClientError);
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('surfaces per-node errors from metadata.error as typed results', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      const r = nodeResults(await c.machine.hostname());
      assert.deepEqual(
        r.messages.map((m) => [m.node, m.value.hostname]),
        [['10.5.0.2', 'cp-1']],
      );
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.node, '10.5.0.3');
      assert.equal(r.errors[0]!.grpcCode, status.UNAVAILABLE);
      assert.equal(r.errors[0]!.message, '10.5.0.3: connection refused');
    } finally {
      c.close();
    }
  });

  it('streams server messages and labels them per node', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      const lines: string[] = [];
      for await (const item of nodeStream(c.machine.logs({ namespace: 'system', id: 'apid', tailLines: -1 }))) {
        assert.equal(item.error, undefined);
        lines.push(Buffer.from(item.value!.bytes).toString());
      }
      assert.deepEqual(lines, ['apid line 0\n', 'apid line 1\n', 'apid line 2\n']);
    } finally {
      c.close();
    }
  });

  it('cancels a following stream through an AbortSignal', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      const ac = new AbortController();
      const got: string[] = [];
      for await (const d of c.machine.logs({ namespace: 'system', id: 'apid', follow: true }, { signal: ac.signal })) {
        got.push(Buffer.from(d.bytes).toString());
        ac.abort();
      }
      assert.deepEqual(got, ['first\n']);
    } finally {
      c.close();
    }
  });

  it('enforces deadlines', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      await assert.rejects(c.machine.memory({}, { timeout: 200 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.DEADLINE_EXCEEDED);
    } finally {
      c.close();
    }
  });

  it('sends client streams', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      const chunks = [Buffer.alloc(1000), Buffer.alloc(24)].map((b) => ({ bytes: b }));
      const res = await c.machine.etcdRecover(chunks);
      assert.equal(res.messages[0]!.metadata!.hostname, '1024');
    } finally {
      c.close();
    }
  });

  it('reports Unimplemented for methods the server lacks', async () => {
    const c = client([`127.0.0.1:${port}`]);
    try {
      await assert.rejects(c.machine.cpuInfo(), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNIMPLEMENTED && /Unimplemented/.test(e.message));
    } finally {
      c.close();
    }
  });

  it('is refused by a server that does not trust its certificate', async () => {
    const c = new Client({ endpoints: [`127.0.0.1:${port}`], tls: { ca: pki.caCrt, crt: pki.foreignClientCrt, key: pki.foreignClientKey } });
    try {
      await assert.rejects(c.machine.version({}, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });

  it('refuses a server whose certificate does not chain to the CA', async () => {
    const c = new Client({ endpoints: [`127.0.0.1:${port}`], tls: { ca: pki.foreignCaCrt, crt: pki.clientCrt, key: pki.clientKey } });
    try {
      await assert.rejects(c.machine.version({}, { timeout: 10_000 }), (e: unknown) => e instanceof RpcError && e.grpcCode === status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });

  it('rejects bad TLS material and empty endpoint lists up front', () => {
    assert.throws(() => new Client({ endpoints: [], tls: {} }), (e: unknown) => e instanceof ClientError && e.code === 'BRONZE_CLIENT_NO_ENDPOINTS');
    assert.throws(() => new Client({ endpoints: ['127.0.0.1'], tls: { ca: 'nope' } }), (e: unknown) => e instanceof ClientError && e.code === 'BRONZE_CLIENT_CREDENTIALS');
    assert.throws(() => new Client({ endpoints: ['127.0.0.1'], tls: {} }), /no CA certificate/);
  });
});
