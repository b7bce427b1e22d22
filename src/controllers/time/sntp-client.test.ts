import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildRequest, parseReply, querySNTP, readTimestamp, SNTPError, writeTimestamp } from './sntp-client.js';

/** A small NTP server on loopback whose clock runs `skewMs` ahead of ours, answering as `behaviour` says. */
class TestNTPServer {
  socket: Socket = createSocket('udp4');
  port = 0;
  skewMs = 0;
  behaviour: 'ok' | 'kod' | 'unsync' | 'silent' | 'mismatch' = 'ok';

  async start(): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      if (this.behaviour === 'silent') return;
      const reply = Buffer.alloc(48);
      reply[0] = ((this.behaviour === 'unsync' ? 3 : 0) << 6) | (4 << 3) | 4;
      reply[1] = this.behaviour === 'kod' ? 0 : 2;
      if (this.behaviour === 'kod') reply.write('RATE', 12, 'latin1');
      else Buffer.from([127, 0, 0, 1]).copy(reply, 12);
      reply.writeUInt16BE(0, 4);
      reply.writeUInt16BE(0x8000, 6); // root delay 0.5 s
      const server = Date.now() + this.skewMs;
      writeTimestamp(reply, 16, server - 1000);
      if (this.behaviour === 'mismatch') writeTimestamp(reply, 24, 12345);
      else msg.copy(reply, 24, 40, 48);
      writeTimestamp(reply, 32, server);
      writeTimestamp(reply, 40, server);
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.port = this.socket.address().port;
  }

  stop(): void {
    this.socket.close();
  }
}

describe('SNTP client against a loopback NTP server', () => {
  const srv = new TestNTPServer();
  before(() => srv.start());
  after(() => srv.stop());

  it('measures the offset of a server running ahead', async () => {
    srv.behaviour = 'ok';
    srv.skewMs = 90_000;
    const r = await querySNTP(`127.0.0.1:${srv.port}`, { timeoutMs: 5000 });
    assert.ok(Math.abs(r.offsetMs - 90_000) < 500, `offset ${r.offsetMs}`);
    assert.ok(r.delayMs >= 0 && r.delayMs < 500);
    assert.equal(r.stratum, 2);
    assert.equal(r.referenceId, '127.0.0.1');
    assert.equal(r.address, '127.0.0.1');
    assert.equal(r.rootDistanceMs, 250);
  });

  it('measures a server running behind', async () => {
    srv.behaviour = 'ok';
    srv.skewMs = -3_600_000;
    const r = await querySNTP('127.0.0.1', { port: srv.port });
    assert.ok(Math.abs(r.offsetMs + 3_600_000) < 500);
  });

  it('refuses kiss-of-death and unsynchronized replies', async () => {
    srv.behaviour = 'kod';
    await assert.rejects(querySNTP(`127.0.0.1:${srv.port}`), (e: unknown) => e instanceof SNTPError && e.code === 'BRONZE_SNTP_KISS_OF_DEATH' && /RATE/.test(e.message));
    srv.behaviour = 'unsync';
    await assert.rejects(querySNTP(`127.0.0.1:${srv.port}`), (e: unknown) => e instanceof SNTPError && e.code === 'BRONZE_SNTP_UNSYNCHRONIZED');
  });

  it('ignores replies to other requests and times out on silence', async () => {
    srv.behaviour = 'mismatch';
    await assert.rejects(querySNTP(`127.0.0.1:${srv.port}`, { timeoutMs: 300 }), (e: unknown) => e instanceof SNTPError && e.code === 'BRONZE_SNTP_TIMEOUT');
    srv.behaviour = 'silent';
    await assert.rejects(querySNTP(`127.0.0.1:${srv.port}`, { timeoutMs: 200 }), (e: unknown) => e instanceof SNTPError && e.code === 'BRONZE_SNTP_TIMEOUT');
  });
});

describe('NTP packets', () => {
  it('round-trips timestamps to sub-millisecond precision', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), (ms) => {
        const b = Buffer.alloc(8);
        writeTimestamp(b, 0, ms);
        assert.ok(Math.abs(readTimestamp(b, 0) - ms) < 0.001);
      }),
    );
  });

  it('computes offset and delay as RFC 4330 defines them', () => {
    const t1 = 1_000_000;
    const req = buildRequest(t1);
    const reply = Buffer.alloc(48);
    reply[0] = (4 << 3) | 4;
    reply[1] = 1;
    reply.write('GPS', 12, 'latin1');
    req.copy(reply, 24, 40, 48);
    writeTimestamp(reply, 32, t1 + 5_050); // server received 50 ms after we sent, but its clock is 5 s ahead
    writeTimestamp(reply, 40, t1 + 5_060);
    const r = parseReply(reply, req, t1, t1 + 110, 's', '1.2.3.4');
    assert.ok(Math.abs(r.offsetMs - 5000) < 0.01);
    assert.ok(Math.abs(r.delayMs - 100) < 0.01);
    assert.equal(r.referenceId, 'GPS');
  });
});
