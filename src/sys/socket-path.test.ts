import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_SOCKET_PATH, releaseShortSocketLinks, shortSocketPath } from './socket-path.js';

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

describe('releaseShortSocketLinks', () => {
  it('removes the links into a directory that is going away, and no others', () => {
    const root = mkdtempSync(join(tmpdir(), 'bronze-sockpath-'));
    try {
      const links = join(root, 'l');
      mkdirSync(links);
      const deep = (node: string) => join(root, node, 'x'.repeat(90), 'run', 'containerd', 'containerd.sock');
      for (const node of ['node-1', 'node-2']) mkdirSync(join(deep(node), '..'), { recursive: true });
      const one = join(shortSocketPath(deep('node-1'), '.ttrpc', links), '..');
      const two = join(shortSocketPath(deep('node-2'), '.ttrpc', links), '..');
      symlinkSync(root, join(links, 'unrelated'));
      assert.equal(releaseShortSocketLinks(join(root, 'node-1'), links), 1);
      assert.equal(existsSync(one), false);
      assert.equal(readlinkSync(two), join(deep('node-2'), '..'));
      assert.equal(readlinkSync(join(links, 'unrelated')), root);
      assert.equal(releaseShortSocketLinks(join(root, 'node-3'), links), 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
