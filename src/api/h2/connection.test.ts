import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type ClientHttp2Session, connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { H2_ERROR, H2Connection, type H2Stream, type Headers } from './connection.js';
import { encodeHeaders } from './hpack.js';

/** One HTTP/2 frame, as a raw peer writes it. */
function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
}

/** The client connection preface */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Collects a stream's data until it closes. */
function collect(s: H2Stream): Promise<{ data: Buffer; code: number; reason: string; trailers?: Headers }> {
  const parts: Buffer[] = [];
  let trailers: Headers | undefined;
  s.onData = (c) => parts.push(Buffer.from(c));
  s.onTrailers = (t) => (trailers = t);
  return new Promise((resolve) => {
    s.onClose = (code, reason) => resolve({ data: Buffer.concat(parts), code, reason, trailers });
  });
}

describe('H2Connection, server side, with node:http2 as the client', () => {
  const conns = new Set<H2Connection>();
  let server: Server;
  let session: ClientHttp2Session;
  const seen: Headers[] = [];
  const closes: number[] = [];
  let closed: () => void = () => {};

  const start = async () => {
    server = createServer((socket: Socket) => {
      const c = new H2Connection(socket, {
        role: 'server',
        onStream: (s, headers) => {
          seen.push(headers);
          const path = headers[':path'];
          if (path === '/echo') {
            // echoes the body, with a trailer, respecting backpressure both ways
            s.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-reply': 'yes' });
            s.onData = (chunk) => {
              if (!s.write(chunk)) {
                s.pause();
                s.onDrain = () => s.resume();
              }
            };
            s.onEnd = () => s.end({ 'grpc-status': '0', 'grpc-message': 'fine' });
          } else if (path === '/early') {
            s.respond({ ':status': 200, 'grpc-status': '8' }, true);
          } else if (path === '/hold') {
            s.respond({ ':status': 200 });
            s.onClose = (code) => {
              closes.push(code);
              closed();
            };
          }
        },
      });
      conns.add(c);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    session = h2connect(`http://127.0.0.1:${port}`, { maxSessionMemory: 256 });
    session.on('error', () => {});
  };
  after(() => {
    session?.destroy();
    for (const c of conns) c.destroy();
    server?.close();
  });

  const call = (path: string, body: Buffer, headers: Record<string, string | string[]> = {}) => {
    const req = session.request({ ':method': 'POST', ':path': path, ...headers });
    req.end(body);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    let response: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    req.on('response', (h) => (response = h));
    req.on('trailers', (t) => (trailers = t));
    return new Promise<{ body: Buffer; response: Record<string, unknown>; trailers: Record<string, unknown> }>((resolve, reject) => {
      req.on('error', reject);
      req.on('close', () => resolve({ body: Buffer.concat(parts), response, trailers }));
    });
  };

  it('answers many concurrent calls with headers, data and trailers', { timeout: 20_000 }, async () => {
    await start();
    const bodies = Array.from({ length: 200 }, (_, i) => randomBytes(i * 37));
    // a long header value changes with every call: the peer's dynamic table fills, evicts, and is Huffman-coded
    const results = await Promise.all(bodies.map((b, i) => call('/echo', b, { 'x-value': `value-${i}-${'abc'.repeat(i % 50)}`, nodes: ['a', 'b'] })));
    results.forEach((r, i) => {
      assert.ok(r.body.equals(bodies[i]!), `body ${i}`);
      assert.equal(r.response[':status'], 200);
      assert.equal(r.response['x-reply'], 'yes');
      assert.equal(r.trailers['grpc-status'], '0');
      assert.equal(r.trailers['grpc-message'], 'fine');
    });
    const byValue = new Set(seen.map((h) => h['x-value']));
    for (let i = 0; i < 200; i++) assert.ok(byValue.has(`value-${i}-${'abc'.repeat(i % 50)}`));
    assert.ok(seen.every((h) => (Array.isArray(h.nodes) ? h.nodes.join(',') : h.nodes) === 'a,b' || h.nodes === 'a, b'));
  });

  it('moves 20 MiB through one stream each way under flow control', { timeout: 30_000 }, async () => {
    const body = randomBytes(20 << 20);
    const r = await call('/echo', body);
    assert.equal(r.body.length, body.length);
    assert.ok(r.body.equals(body));
  });

  it('answers before the request ended: the client is asked to stop without error', { timeout: 10_000 }, async () => {
    const r = await call('/early', Buffer.alloc(0));
    assert.equal(r.response['grpc-status'], '8');
  });

  it("sees the client's cancellation", { timeout: 10_000 }, async () => {
    const seenClose = new Promise<void>((r) => (closed = r));
    const req = session.request({ ':method': 'POST', ':path': '/hold' });
    req.on('error', () => {});
    await once(req, 'response');
    req.close(H2_ERROR.CANCEL);
    await seenClose;
    assert.deepEqual(closes, [H2_ERROR.CANCEL]);
  });

  it('goes away gracefully: open streams finish, new ones are refused', { timeout: 10_000 }, async () => {
    const req = session.request({ ':method': 'POST', ':path': '/echo' });
    req.write(Buffer.from('before'));
    await once(req, 'response');
    for (const c of conns) c.close();
    await once(session, 'goaway');
    req.end(Buffer.from(' after'));
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    await once(req, 'end');
    assert.equal(Buffer.concat(parts).toString(), 'before after');
    await once(session, 'close');
  });
});

describe('H2Connection, client side, with node:http2 as the server', () => {
  let server: Http2Server;
  const conns: H2Connection[] = [];
  const open = async () => {
    const { port } = server.address() as { port: number };
    const socket = netConnect(port, '127.0.0.1');
    const c = new H2Connection(socket, { role: 'client' });
    conns.push(c);
    return c;
  };
  after(() => {
    for (const c of conns) c.destroy();
    server?.close();
  });

  it('calls, streams both ways, reads trailers, and sees resets and goaway', { timeout: 30_000 }, async () => {
    server = createH2Server({ maxSessionMemory: 256 });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      if (headers[':path'] === '/reset') return stream.close(H2_ERROR.REFUSED_STREAM);
      stream.respond({ ':status': 200, 'x-echo': String(headers['x-in']) }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.pipe(stream);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = await open();

    const big = randomBytes(12 << 20);
    const s = c.request({ ':method': 'POST', ':path': '/echo', 'x-in': 'hello' });
    let response: Headers | undefined;
    s.onResponse = (h) => (response = h);
    const done = collect(s);
    for (let off = 0; off < big.length; off += 1 << 20) {
      if (!s.write(big.subarray(off, off + (1 << 20)))) await new Promise<void>((r) => (s.onDrain = r));
    }
    s.end();
    const r = await done;
    assert.equal(r.code, 0);
    assert.equal(response?.[':status'], '200');
    assert.equal(response?.['x-echo'], 'hello');
    assert.equal(r.trailers?.['grpc-status'], '0');
    assert.ok(r.data.equals(big));

    const reset = c.request({ ':method': 'POST', ':path': '/reset' }, true);
    const rr = await collect(reset);
    assert.equal(rr.code, H2_ERROR.REFUSED_STREAM);

    // closing: the connection takes no new calls and ends once its streams are over
    const closed = new Promise<void>((resolve) => c.onClose(resolve));
    c.close();
    await closed;
    assert.throws(() => c.request({ ':path': '/x' }), /no new calls/);
  });

  it('fails its streams with the reason when the connection cannot be made', { timeout: 10_000 }, async () => {
    const socket = netConnect(1, '127.0.0.1');
    const c = new H2Connection(socket, { role: 'client' });
    const r = await collect(c.request({ ':method': 'POST', ':path': '/x' }, true));
    assert.equal(r.code, H2_ERROR.CANCEL);
    assert.match(r.reason, /ECONNREFUSED/);
  });
});

describe('H2Connection, server side, frames as other clients send them', () => {
  it('reads padded and prioritized HEADERS continued over CONTINUATION, padded DATA, and answers PING', { timeout: 10_000 }, async () => {
    const got: { headers?: Headers; data: Buffer[]; ended: boolean } = { data: [], ended: false };
    let ended!: () => void;
    const endedP = new Promise<void>((r) => (ended = r));
    const server = createServer((socket) => {
      new H2Connection(socket, {
        role: 'server',
        onStream: (s, headers) => {
          got.headers = headers;
          s.onData = (c) => got.data.push(Buffer.from(c));
          s.onEnd = () => {
            got.ended = true;
            s.respond({ ':status': 200 }, true);
            ended();
          };
        },
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = netConnect((server.address() as { port: number }).port, '127.0.0.1');
    try {
      const { huffmanEncode } = await import('./hpack.js');
      const value = huffmanEncode('a Huffman-coded value');
      // :method POST, :scheme, :path from the static table; then a literal with incremental indexing, new name, Huffman value
      const block = Buffer.concat([encodeHeaders([[':method', 'POST'], [':scheme', 'http'], [':path', '/p']]), Buffer.from([0x40, 5]), Buffer.from('x-huf'), Buffer.from([0x80 | value.length]), value]);
      const first = Buffer.concat([Buffer.from([2]), Buffer.alloc(5), block.subarray(0, 4), Buffer.alloc(2)]); // pad 2, priority 5 bytes
      const data = Buffer.concat([Buffer.from([3]), Buffer.from('body'), Buffer.alloc(3)]);
      socket.write(
        Buffer.concat([
          PREFACE,
          frame(4, 0, 0, Buffer.alloc(0)),
          frame(1, 0x8 | 0x20, 1, first),
          frame(9, 0x4, 1, block.subarray(4)),
          frame(0, 0x8 | 0x1, 1, data),
          frame(6, 0, 0, Buffer.from('12345678')),
        ]),
      );
      const received: Buffer[] = [];
      let acked!: () => void;
      const ackedP = new Promise<void>((r) => (acked = r));
      socket.on('data', (c: Buffer) => {
        received.push(c);
        if (pingAck() !== undefined) acked();
      });
      const pingAck = () => {
        const all = Buffer.concat(received);
        for (let off = 0; off + 9 <= all.length; off += 9 + all.readUIntBE(off, 3)) {
          if (all[off + 3] === 6 && all[off + 4] === 1) return all.subarray(off + 9, off + 17).toString();
        }
        return undefined;
      };
      await Promise.all([endedP, ackedP]);
      assert.equal(got.headers?.['x-huf'], 'a Huffman-coded value');
      assert.equal(got.headers?.[':path'], '/p');
      assert.equal(Buffer.concat(got.data).toString(), 'body');
      assert.equal(got.ended, true);
      assert.equal(pingAck(), '12345678');
    } finally {
      socket.destroy();
      server.close();
    }
  });
});

describe("H2Connection, client side, within the peer's limit of concurrent streams", () => {
  it('holds the calls beyond the limit back and opens each when another ends', { timeout: 20_000 }, async () => {
    const server = createH2Server({ settings: { maxConcurrentStreams: 2 } });
    let open = 0;
    let most = 0;
    server.on('stream', (stream) => {
      stream.on('error', () => {});
      most = Math.max(most, ++open);
      stream.on('close', () => open--);
      // each answer waits a little for the next turn of the loop, so calls overlap
      setImmediate(() => stream.respond({ ':status': 200 }, { endStream: true }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = new H2Connection(netConnect((server.address() as { port: number }).port, '127.0.0.1'), { role: 'client' });
    try {
      // the first call lets the peer's settings arrive
      assert.equal((await collect(c.request({ ':method': 'POST', ':path': '/' }, true))).code, 0);
      const calls = Array.from({ length: 10 }, (_, i) => {
        const s = c.request({ ':method': 'POST', ':path': `/${i}` });
        s.write(Buffer.from(`body ${i}`));
        s.end();
        return collect(s);
      });
      // one still waiting is cancelled without ever reaching the peer
      const extra = c.request({ ':method': 'POST', ':path': '/never' }, true);
      const extraDone = collect(extra);
      extra.reset();
      const results = await Promise.all(calls);
      assert.deepEqual(
        results.map((r) => r.code),
        Array(10).fill(0),
      );
      assert.equal((await extraDone).code, H2_ERROR.CANCEL);
      assert.equal(most, 2);
    } finally {
      c.destroy();
      server.close();
    }
  });
});

describe('H2Connection closing', () => {
  it('cuts off a peer that does not close its side after this side ended the connection', { timeout: 10_000 }, async () => {
    let conn: H2Connection | undefined;
    let peer: Socket | undefined;
    const accepted = new Promise<void>((resolve) => {
      const server = createServer((socket) => {
        conn = new H2Connection(socket, { role: 'server' });
        server.close();
        resolve();
      });
      server.listen(0, '127.0.0.1', () => {
        // a peer that sends its preface and then ignores everything, its FIN included
        const p = netConnect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true });
        peer = p;
        p.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0', 'latin1'));
        p.on('error', () => {});
        p.resume();
      });
    });
    try {
      await accepted;
      const gone = new Promise<void>((resolve) => conn!.onClose(resolve));
      const t0 = Date.now();
      conn!.close();
      await gone;
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(conn!.destroyed, true);
    } finally {
      peer?.destroy();
    }
  });
});

describe('H2Connection, header lists over the limit', () => {
  it('fails only the stream whose headers are too large, both ways, and keeps the connection', { timeout: 10_000 }, async () => {
    let serverConn: H2Connection | undefined;
    const server = createServer((socket) => {
      serverConn = new H2Connection(socket, {
        role: 'server',
        maxHeaderListSize: 4096,
        onStream: (s, headers) => {
          // a big answer for /big-answer, else the request's path back
          if (headers[':path'] === '/big-answer') s.respond({ ':status': 200, 'x-big': 'b'.repeat(8000) }, true);
          else s.respond({ ':status': 200, 'x-path': String(headers[':path']) }, true);
        },
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = new H2Connection(netConnect((server.address() as { port: number }).port, '127.0.0.1'), { role: 'client', maxHeaderListSize: 4096 });
    const answer = (s: H2Stream) =>
      new Promise<{ headers?: Headers; code: number; reason: string }>((resolve) => {
        let headers: Headers | undefined;
        s.onResponse = (h) => (headers = h);
        s.onClose = (code, reason) => resolve({ headers, code, reason });
      });
    try {
      // the settings arrive with the first answer
      assert.equal((await answer(c.request({ ':method': 'POST', ':path': '/first' }, true))).headers?.['x-path'], '/first');
      // request headers over the server's limit: HTTP 431 for that call
      const big = await answer(c.request({ ':method': 'POST', ':path': '/big', 'x-big': 'a'.repeat(6000) }, true));
      assert.equal(big.headers?.[':status'], '431');
      // response headers over the client's limit: that stream is reset
      const bigAnswer = await answer(c.request({ ':method': 'POST', ':path': '/big-answer' }, true));
      assert.equal(bigAnswer.code, H2_ERROR.ENHANCE_YOUR_CALM);
      assert.match(bigAnswer.reason, /header list of \d+ bytes, larger than 4096/);
      // the connection goes on, its header tables in step
      const next = await answer(c.request({ ':method': 'POST', ':path': '/next' }, true));
      assert.equal(next.headers?.['x-path'], '/next');
      assert.equal(c.destroyed, false);
      assert.equal(serverConn?.destroyed, false);
    } finally {
      c.destroy();
      serverConn?.destroy();
      server.close();
    }
  });
});

describe('H2Connection, settings that open a window', () => {
  it('acknowledges the settings before it sends the data the larger window lets through', { timeout: 10_000 }, async () => {
    const server = createServer((socket) => {
      new H2Connection(socket, {
        role: 'server',
        onStream: (s) => {
          s.respond({ ':status': 200 });
          s.write(Buffer.alloc(100, 0x61));
          s.end();
        },
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = netConnect((server.address() as { port: number }).port, '127.0.0.1');
    try {
      const initialWindow = (n: number) => {
        const p = Buffer.alloc(6);
        p.writeUInt16BE(4, 0);
        p.writeUInt32BE(n, 2);
        return frame(4, 0, 0, p);
      };
      // every stream starts with no window: the answer's data waits
      socket.write(Buffer.concat([PREFACE, initialWindow(0), frame(1, 0x4 | 0x1, 1, encodeHeaders([[':method', 'POST'], [':scheme', 'http'], [':path', '/p']]))]));
      const frames: { type: number; flags: number; id: number }[] = [];
      let buf = Buffer.alloc(0);
      let waiter: { pred: () => boolean; resolve: () => void } | undefined;
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
          frames.push({ type: buf[3]!, flags: buf[4]!, id: buf.readUInt32BE(5) });
          buf = buf.subarray(9 + buf.readUIntBE(0, 3));
        }
        if (waiter?.pred()) waiter.resolve();
      });
      const until = (pred: () => boolean) => new Promise<void>((resolve) => (pred() ? resolve() : (waiter = { pred, resolve })));
      const dataFrames = () => frames.filter((f) => f.type === 0 && f.id === 1);
      await until(() => frames.some((f) => f.type === 1 && f.id === 1));
      assert.equal(dataFrames().length, 0, 'no data while the window is closed');
      const acksBefore = frames.filter((f) => f.type === 4 && f.flags === 1).length;
      socket.write(initialWindow(1000));
      await until(() => dataFrames().some((f) => f.flags & 0x1));
      const firstData = frames.findIndex((f) => f.type === 0 && f.id === 1);
      const ack = frames.findIndex((f, i) => f.type === 4 && f.flags === 1 && frames.slice(0, i + 1).filter((g) => g.type === 4 && g.flags === 1).length === acksBefore + 1);
      assert.ok(ack >= 0 && ack < firstData, `the settings acknowledgement is frame ${ack}, the first data frame ${firstData}`);
    } finally {
      socket.destroy();
      server.close();
    }
  });
});

describe('H2Connection, server side, peers that break the protocol (RFC 9113)', () => {
  interface Got {
    type: number;
    flags: number;
    id: number;
    code?: number;
  }
  const GOAWAY = 7;
  const RST = 3;
  const settings = (id: number, value: number) => {
    const p = Buffer.alloc(6);
    p.writeUInt16BE(id, 0);
    p.writeUInt32BE(value, 2);
    return frame(4, 0, 0, p);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const request = (id: number, fields: [string, string][], end = true) => frame(1, 0x4 | (end ? 0x1 : 0), id, encodeHeaders(fields));
  const GET: [string, string][] = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/p'],
  ];

  /** Sends the frames after the preface, then a PING; what the server sent until it answered the PING or went away. */
  async function exchange(frames: Buffer[]): Promise<Got[]> {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      new H2Connection(socket, {
        role: 'server',
        onStream: (s, headers) => {
          const answer = () => {
            s.respond({ ':status': 200 });
            s.end();
          };
          // '/early' answers before the request is over: the server resets the rest of it
          if (headers[':path'] === '/early') answer();
          else s.onEnd = answer;
        },
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = netConnect((server.address() as { port: number }).port, '127.0.0.1');
    const got: Got[] = [];
    try {
      socket.write(Buffer.concat([PREFACE, frame(4, 0, 0, Buffer.alloc(0)), ...frames, frame(6, 0, 0, Buffer.from('finished'))]));
      let buf = Buffer.alloc(0);
      await new Promise<void>((resolve) => {
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
        socket.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c]);
          while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
            const payload = buf.subarray(9, 9 + buf.readUIntBE(0, 3));
            const f: Got = { type: buf[3]!, flags: buf[4]!, id: buf.readUInt32BE(5) };
            if (f.type === RST) f.code = payload.readUInt32BE(0);
            if (f.type === GOAWAY) f.code = payload.readUInt32BE(4);
            got.push(f);
            buf = buf.subarray(9 + buf.readUIntBE(0, 3));
            if (f.type === GOAWAY || (f.type === 6 && f.flags === 1)) resolve();
          }
        });
      });
      return got;
    } finally {
      socket.destroy();
      server.close();
    }
  }
  const goaway = (got: Got[]) => got.find((f) => f.type === GOAWAY)?.code;
  const resets = (got: Got[]) => got.filter((f) => f.type === RST).map((f) => [f.id, f.code]);

  it('ends the connection for frames that break it', { timeout: 20_000 }, async () => {
    assert.equal(goaway(await exchange([frame(3, 0, 1, u32(8))])), H2_ERROR.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    assert.equal(goaway(await exchange([frame(8, 0, 1, u32(100))])), H2_ERROR.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    assert.equal(goaway(await exchange([frame(8, 0, 0, u32(0))])), H2_ERROR.PROTOCOL_ERROR, 'a connection WINDOW_UPDATE of 0');
    assert.equal(goaway(await exchange([frame(4, 1, 0, Buffer.alloc(6))])), H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS acknowledgement with a payload');
    assert.equal(goaway(await exchange([settings(2, 2)])), H2_ERROR.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH 2');
    assert.equal(goaway(await exchange([frame(2, 0, 0, Buffer.alloc(5))])), H2_ERROR.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    assert.equal(goaway(await exchange([request(5, GET), request(3, GET)])), H2_ERROR.PROTOCOL_ERROR, 'a stream identifier below the last one');
    assert.equal(goaway(await exchange([request(1, GET), request(1, GET)])), H2_ERROR.PROTOCOL_ERROR, 'HEADERS on a closed stream');
  });

  it('resets the stream of a malformed request, and keeps the connection', { timeout: 20_000 }, async () => {
    const malformed: [string, [string, string][]][] = [
      ['an uppercase name', [...GET, ['X-Upper', 'a']]],
      ['a name with a space', [...GET, ['x a', 'b']]],
      ['a name with a control character', [...GET, ['x\u0001', 'b']]],
      ['a non-ASCII name', [...GET, ['x-\u00e9', 'b']]],
      ['no :scheme', [GET[0]!, GET[2]!]],
      ['no :method', [GET[1]!, GET[2]!]],
      ['an empty :path', [GET[0]!, GET[1]!, [':path', '']]],
      ['a :path twice', [...GET, [':path', '/q']]],
      ['a response pseudo-header', [...GET, [':status', '200']]],
      ['an unknown pseudo-header', [...GET, [':foo', 'bar']]],
      ['a pseudo-header after a regular field', [GET[0]!, GET[1]!, ['x-a', 'b'], GET[2]!]],
      ['a connection-specific field', [...GET, ['connection', 'keep-alive']]],
      ['te other than trailers', [...GET, ['te', 'gzip']]],
    ];
    for (const [why, fields] of malformed) {
      const got = await exchange([request(1, fields)]);
      assert.deepEqual(resets(got), [[1, H2_ERROR.PROTOCOL_ERROR]], why);
      assert.equal(goaway(got), undefined, why);
    }
  });

  it('resets a stream for frames its state does not allow', { timeout: 20_000 }, async () => {
    const data = (id: number, text: string, end = true) => frame(0, end ? 1 : 0, id, Buffer.from(text));
    // DATA after the request ended and was answered
    assert.deepEqual(resets(await exchange([request(1, GET), data(1, 'late')])), [[1, H2_ERROR.STREAM_CLOSED]]);
    // a PRIORITY that is not 5 bytes long, and one that names its own stream
    assert.deepEqual(resets(await exchange([request(1, GET, false), frame(2, 0, 1, Buffer.alloc(4))])), [[1, H2_ERROR.FRAME_SIZE_ERROR]]);
    assert.deepEqual(resets(await exchange([request(1, GET, false), frame(2, 0, 1, Buffer.from([0, 0, 0, 1, 16]))])), [[1, H2_ERROR.PROTOCOL_ERROR]]);
    // a stream WINDOW_UPDATE of 0
    assert.deepEqual(resets(await exchange([request(1, GET, false), frame(8, 0, 1, u32(0))])), [[1, H2_ERROR.PROTOCOL_ERROR]]);
    // a content-length the DATA does not add up to
    assert.deepEqual(resets(await exchange([request(1, [...GET, ['content-length', '10']], false), data(1, 'abc')])), [[1, H2_ERROR.PROTOCOL_ERROR]]);
    // what comes on a stream the server reset itself is dropped without a word
    const early = await exchange([request(1, [GET[0]!, GET[1]!, [':path', '/early']], false), data(1, 'in flight', false), data(1, 'more')]);
    assert.deepEqual(resets(early), [[1, H2_ERROR.NO_ERROR]]);
    assert.equal(goaway(early), undefined);
  });
});
