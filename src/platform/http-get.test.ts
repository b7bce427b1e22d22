import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { httpGet } from './http-get.js';

describe('httpGet', () => {
  let server: Server;
  let base: string;
  const seen: Record<string, string | undefined>[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization, encoding: req.headers['accept-encoding'] });
      if (req.url === '/plain') return res.end('hello');
      if (req.url === '/gz') {
        res.setHeader('content-encoding', 'gzip');
        return res.end(gzipSync('unzipped'));
      }
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/plain' });
        return res.end();
      }
      if (req.url === '/loop') {
        res.writeHead(307, { location: '/loop' });
        return res.end();
      }
      if (req.url === '/big') {
        res.writeHead(503);
        return res.end('x'.repeat(100_000));
      }
      if (req.url === '/hang') return; // never answers
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads a body and sends the given headers', async () => {
    const r = await httpGet(`${base}/plain`, { headers: { authorization: 'Bearer t' } });
    assert.equal(r.status, 200);
    assert.equal((await r.body()).toString(), 'hello');
    assert.deepEqual(seen.at(-1), { url: '/plain', auth: 'Bearer t', encoding: 'gzip, deflate, br' });
  });

  it('undoes a gzip content encoding', async () => {
    assert.equal((await (await httpGet(`${base}/gz`)).body()).toString(), 'unzipped');
  });

  it('follows redirects, and gives up on a loop after 10', async () => {
    const r = await httpGet(`${base}/moved`);
    assert.equal((await r.body()).toString(), 'hello');
    await assert.rejects(httpGet(`${base}/loop`), /stopped after 10 redirects/);
  });

  it('reads only the head of a body when asked to', async () => {
    const r = await httpGet(`${base}/big`);
    assert.equal(r.status, 503);
    assert.equal((await r.body(32)).toString(), 'x'.repeat(32));
  });

  it('stops with the signal', async () => {
    const ac = new AbortController();
    const p = httpGet(`${base}/hang`, { signal: ac.signal });
    ac.abort(new Error('given up'));
    await assert.rejects(p, /given up/);
  });

  it('fails with the connection error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/`), /ECONNREFUSED/);
  });
});
