import assert from 'node:assert/strict';
import { createServer } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { describe, it } from 'node:test';
import { H2Connection } from '../api/h2/connection.js';
import { SessionPool } from './h2.js';

describe('SessionPool', () => {
  it('closing the pool while a connection is still being made lets the streams asked of it run', { timeout: 10_000 }, async () => {
    const server = createServer();
    server.on('stream', (stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const dial = () => new H2Connection(netConnect(port, '127.0.0.1'), { role: 'client' });
    try {
      const pool = new SessionPool();
      const session = pool.get('peer', dial);
      assert.equal(session.socket.connecting, true);
      const req = session.request({ ':method': 'POST', ':path': '/x' });
      // new identity material arrives before the connection is up
      pool.close();
      const status = await new Promise<string>((resolve, reject) => {
        req.onResponse = (h) => resolve(String(h[':status']));
        req.onClose = (code, reason) => reject(new Error(`closed ${code} ${reason}`));
      });
      assert.equal(status, '200');
      await new Promise<void>((resolve) => session.onClose(resolve));
      assert.equal(session.accepting, false);
      // the next caller gets a new connection
      const next = pool.get('peer', dial);
      assert.notEqual(next, session);
      pool.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
