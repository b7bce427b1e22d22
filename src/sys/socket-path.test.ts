import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_SOCKET_PATH, shortSocketPath } from './socket-path.js';

describe('shortSocketPath', () => {
  it('leaves a path that fits as it is', () => {
    assert.equal(shortSocketPath('/run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
  });

  it('reaches a socket in a deep directory through a short link, and the socket stays in its directory', { timeout: 10_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'bronze-sockpath-'));
    const links = join(root, 'l');
    mkdirSync(links);
    const dir = join(root, 'a'.repeat(60), 'b'.repeat(40), 'run', 'containerd');
    mkdirSync(dir, { recursive: true });
    const long = join(dir, 'containerd.sock');
    assert.ok(long.length + '.ttrpc'.length > MAX_SOCKET_PATH);
    const server = createServer((s) => s.end('hello'));
    try {
      const short = shortSocketPath(long, '.ttrpc', links);
      assert.ok(short.length + '.ttrpc'.length <= MAX_SOCKET_PATH, short);
      assert.match(short, /\/bronze-sock-[0-9a-f]{16}\/containerd\.sock$/);
      // the same directory gets the same link, made once
      assert.equal(shortSocketPath(long, '.ttrpc', links), short);
      assert.equal(shortSocketPath(join(dir, 'other.sock'), '.ttrpc', links), join(short, '..', 'other.sock'));
      server.listen(short);
      await once(server, 'listening');
      assert.ok(lstatSync(long).isSocket(), 'the socket is in its own directory');
      const c = connect(short);
      const [d] = (await once(c, 'data')) as [Buffer];
      assert.equal(d.toString(), 'hello');
      c.destroy();
      // a link left pointing elsewhere is replaced
      const link = join(short, '..');
      rmSync(link);
      symlinkSync('/nonexistent', link);
      assert.equal(shortSocketPath(long, '.ttrpc', links), short);
      assert.equal(readlinkSync(link), dir);
    } finally {
      server.close();
      rmSync(root, { recursive: true, force: true });
    }
    assert.equal(existsSync(root), false);
  });
});
