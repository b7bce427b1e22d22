import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  credentials,
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { H2Connection, type Headers } from './connection.js';
import { GrpcServer } from './grpc-server.js';
import { frame } from './grpc-wire.js';

// messages are UTF-8 strings on the wire, so the test reads without generated code
const ser = (v: string): Buffer => Buffer.from(v);
const de = (b: Buffer): string => {
  const s = b.toString();
  if (s === 'undecodable') throw new Error('bad bytes');
  return s;
};
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: ser,
  requestDeserialize: de,
  responseSerialize: ser,
  responseDeserialize: de,
});
const Echo = {
  unary: method('Unary', false, false),
  fail: method('Fail', false, false),
  count: method('Count', false, true),
  follow: method('Follow', false, true),
  join: method('Join', true, false),
  chat: method('Chat', true, true),
  missing: method('Missing', false, false),
};

describe('GrpcServer, called by grpc-js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-server-'));
  const socket = join(dir, 'api.sock');
  const server = new GrpcServer({ maxReceiveMessageLength: 1024 });
  let client: Client;
  const cancelled: string[] = [];
  let followEnded!: () => void;
  const followGone = new Promise<void>((resolve) => (followEnded = resolve));

  before(async () => {
    server.addService(Echo, {
      unary(call: ServerUnaryCall<string, string>, cb: sendUnaryData<string>) {
        const who = call.metadata.get('x-who')[0] ?? 'nobody';
        assert.deepEqual(call.metadata.get('content-type'), []);
        const md = new Metadata();
        md.set('x-answered-by', 'echo');
        call.sendMetadata(md);
        if (call.request === 'slow') return; // never answers: the caller's deadline ends it
        cb(null, `${call.request} from ${who} via ${call.getPath()}`);
      },
      fail(call: ServerUnaryCall<string, string>, cb: sendUnaryData<string>) {
        const md = new Metadata();
        md.set('x-reason', 'asked');
        cb({ code: status.FAILED_PRECONDITION, details: `no: ${call.request} – 100%`, metadata: md } as never);
      },
      count(call: ServerWritableStream<string, string>) {
        const n = Number(call.request);
        if (n < 0) {
          call.emit('error', { code: status.INVALID_ARGUMENT, details: 'negative' });
          return;
        }
        void (async () => {
          for (let i = 0; i < n; i++) {
            // 64 KiB messages: the stream's window fills and writes wait for the caller
            if (!call.write(`${i}:${'x'.repeat(64 * 1024)}`)) await once(call, 'drain');
          }
          call.end();
        })();
      },
      follow(call: ServerWritableStream<string, string>) {
        call.on('cancelled', () => {
          cancelled.push(call.request);
          followEnded();
        });
        call.write('first');
      },
      join(call: ServerReadableStream<string, string>, cb: sendUnaryData<string>) {
        void (async () => {
          const parts: string[] = [];
          try {
            for await (const m of call as AsyncIterable<string>) parts.push(m);
            cb(null, parts.join('+'));
          } catch (e) {
            cb(e as Error);
          }
        })();
      },
      chat(call: ServerDuplexStream<string, string>) {
        call.on('data', (m: string) => call.write(`re: ${m}`));
        call.on('end', () => call.end());
      },
    });
    await server.listen(socket);
    client = new Client(`unix:${socket}`, credentials.createInsecure());
  });

  after(async () => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const unary = (m: (typeof Echo)[keyof typeof Echo], req: string, md = new Metadata(), deadline?: number) =>
    new Promise<{ value?: string; err?: { code: number; details: string; metadata: Metadata }; headers?: Metadata }>((resolve) => {
      let headers: Metadata | undefined;
      const call = client.makeUnaryRequest(m.path, ser, de, req, md, deadline === undefined ? {} : { deadline: Date.now() + deadline }, (err, value) =>
        resolve(err ? { err: err as never, headers } : { value, headers }),
      );
      call.on('metadata', (h) => (headers = h));
    });

  it('answers a unary call with the caller metadata, response headers and path', { timeout: 10_000 }, async () => {
    const md = new Metadata();
    md.set('x-who', 'alice');
    const r = await unary(Echo.unary, 'hello', md);
    assert.equal(r.value, 'hello from alice via /test.Echo/Unary');
    assert.deepEqual(r.headers?.get('x-answered-by'), ['echo']);
  });

  it('ends a failed call with the handler status, details and trailing metadata', { timeout: 10_000 }, async () => {
    const r = await unary(Echo.fail, 'x');
    assert.equal(r.err?.code, status.FAILED_PRECONDITION);
    assert.equal(r.err?.details, 'no: x – 100%');
    assert.deepEqual(r.err?.metadata.get('x-reason'), ['asked']);
  });

  it('answers Unimplemented for a method no service has', { timeout: 10_000 }, async () => {
    const r = await unary(Echo.missing, 'x');
    assert.equal(r.err?.code, status.UNIMPLEMENTED);
    assert.equal(r.err?.details, 'The server does not implement the method /test.Echo/Missing');
  });

  it('refuses a message over the limit and one it cannot decode, and serves the next call', { timeout: 10_000 }, async () => {
    const big = await unary(Echo.unary, 'y'.repeat(2000));
    assert.equal(big.err?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(big.err?.details, 'Received message larger than max (2000 vs. 1024)');
    const bad = await unary(Echo.unary, 'undecodable');
    assert.equal(bad.err?.code, status.INTERNAL);
    assert.match(bad.err?.details ?? '', /^Error deserializing request: bad bytes/);
    assert.equal((await unary(Echo.unary, 'again')).value, 'again from nobody via /test.Echo/Unary');
  });

  it('reads requests the caller compressed with gzip', { timeout: 10_000 }, async () => {
    const gz = new Client(`unix:${socket}`, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
    try {
      const value = await new Promise<string>((resolve, reject) =>
        gz.makeUnaryRequest(Echo.unary.path, ser, de, 'z'.repeat(500), (err, v) => (err ? reject(err) : resolve(v!))),
      );
      assert.equal(value, `${'z'.repeat(500)} from nobody via /test.Echo/Unary`);
    } finally {
      gz.close();
    }
  });

  it('answers a call with metadata over 1 MiB with ResourceExhausted and serves the next one', { timeout: 10_000 }, async () => {
    const c = new H2Connection(netConnect(socket), { role: 'client' });
    const call = (extra: Record<string, string>) =>
      new Promise<Headers>((resolve, reject) => {
        const s = c.request({ ':method': 'POST', ':path': Echo.unary.path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
        let got: Headers = {};
        s.onResponse = (h) => (got = { ...got, ...h });
        s.onTrailers = (h) => (got = { ...got, ...h });
        s.onClose = (code, reason) => (code === 0 ? resolve(got) : reject(new Error(reason)));
        s.write(frame(Buffer.from('hi')));
        s.end();
      });
    try {
      const big = await call({ 'x-big': 'm'.repeat(1 << 20) });
      assert.equal(big['grpc-status'], String(status.RESOURCE_EXHAUSTED));
      assert.match(decodeURIComponent(String(big['grpc-message'])), /^request metadata of \d+ bytes is larger than the limit of 1048576 bytes$/);
      const next = await call({});
      assert.equal(next['grpc-status'], '0');
    } finally {
      c.destroy();
    }
  });

  it('ends a call whose deadline passes with DeadlineExceeded', { timeout: 10_000 }, async () => {
    const r = await unary(Echo.unary, 'slow', new Metadata(), 200);
    assert.equal(r.err?.code, status.DEADLINE_EXCEEDED);
  });

  it('streams 200 messages of 64 KiB under flow control, in order', { timeout: 20_000 }, async () => {
    const call = client.makeServerStreamRequest(Echo.count.path, ser, de, '200');
    const got: number[] = [];
    for await (const m of call as AsyncIterable<string>) got.push(Number(m.slice(0, m.indexOf(':'))));
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
  });

  it('ends a stream with the status a handler emits as an error', { timeout: 10_000 }, async () => {
    const call = client.makeServerStreamRequest(Echo.count.path, ser, de, '-1');
    const err = await new Promise<{ code: number; details: string }>((resolve) => call.on('error', resolve));
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.equal(err.details, 'negative');
  });

  it('tells a streaming handler when the caller cancels', { timeout: 10_000 }, async () => {
    const call = client.makeServerStreamRequest(Echo.follow.path, ser, de, 'logs');
    const [first] = (await once(call, 'data')) as [string];
    assert.equal(first, 'first');
    call.on('error', () => undefined);
    call.cancel();
    await followGone;
    assert.deepEqual(cancelled, ['logs']);
  });

  it('reads a client stream to its end', { timeout: 10_000 }, async () => {
    const value = await new Promise<string>((resolve, reject) => {
      const call = client.makeClientStreamRequest(Echo.join.path, ser, de, (err, v) => (err ? reject(err) : resolve(v!)));
      for (const m of ['a', 'b', 'c']) call.write(m);
      call.end();
    });
    assert.equal(value, 'a+b+c');
  });

  it('carries a bidirectional call both ways', { timeout: 10_000 }, async () => {
    const call = client.makeBidiStreamRequest(Echo.chat.path, ser, de);
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: string) => got.push(m));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write('one');
    call.write('two');
    call.end();
    await done;
    assert.deepEqual(got, ['re: one', 're: two']);
  });

  it('lets calls in flight finish on shutdown, then closes', { timeout: 10_000 }, async () => {
    const other = new GrpcServer();
    const sock = join(dir, 'other.sock');
    let answer!: () => void;
    const called = new Promise<void>((resolve) => {
      other.addService(
        { unary: Echo.unary },
        {
          unary(call: ServerUnaryCall<string, string>, cb: sendUnaryData<string>) {
            answer = () => cb(null, `late ${call.request}`);
            resolve();
          },
        },
      );
    });
    await other.listen(sock);
    const c = new Client(`unix:${sock}`, credentials.createInsecure());
    try {
      const result = new Promise<string>((resolve, reject) => c.makeUnaryRequest(Echo.unary.path, ser, de, 'q', (err, v) => (err ? reject(err) : resolve(v!))));
      await called;
      const stopped = other.shutdown();
      answer();
      assert.equal(await result, 'late q');
      await stopped;
    } finally {
      c.close();
      other.forceShutdown();
    }
  });
});
