import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ConfigURLError,
  configURLVariables,
  fetchConfig,
  goQueryEscape,
  loadMetalConfig,
  parseConfigParam,
  populateConfigURL,
  substituteConfigURL,
  type ConfigURLErrorCode,
  type ConfigURLValues,
} from './config-url.js';

const UUID = '4c4c4544-0042-3510-8052-b3c04f4a4d32';
const MAC = '00:11:22:33:44:55';
const never = () => new AbortController().signal;
const values: ConfigURLValues = { uuid: () => UUID, serial: () => 'SN 1', mac: async () => MAC, hostname: () => 'node-1', code: () => 'abc' };
const TINY = { initialMs: 1, maxMs: 2, jitterMs: 1 };

function isCode(code: ConfigURLErrorCode) {
  return (e: unknown) => e instanceof ConfigURLError && e.code === code;
}

describe('parseConfigParam', () => {
  test('none, metal-iso, URL', () => {
    assert.deepEqual(parseConfigParam(undefined), { kind: 'none' });
    assert.deepEqual(parseConfigParam('none'), { kind: 'none' });
    assert.deepEqual(parseConfigParam('metal-iso'), { kind: 'metal-iso' });
    assert.deepEqual(parseConfigParam('http://10.0.0.1/c.yaml'), { kind: 'url', url: 'http://10.0.0.1/c.yaml' });
  });

  test('loadMetalConfig: none and metal-iso need no download', async () => {
    const opts = { values: {}, signal: never() };
    assert.deepEqual(await loadMetalConfig('none', opts), { kind: 'none' });
    assert.deepEqual(await loadMetalConfig(undefined, opts), { kind: 'none' });
    assert.deepEqual(await loadMetalConfig('metal-iso', opts), { kind: 'metal-iso' });
  });
});

describe('substituteConfigURL', () => {
  test('variables in query values, any case; the legacy empty uuid key; keys sorted and Go-escaped', async () => {
    const got = await substituteConfigURL('http://h:8080/${uuid}/cfg?u=${uuid}&m=${MAC}&h=${HostName}&uuid=&s=x-${serial}-${serial}&c=${code}#frag', values, never());
    assert.equal(got, `http://h:8080/\${uuid}/cfg?c=abc&h=node-1&m=00%3A11%3A22%3A33%3A44%3A55&s=x-SN+1-SN+1&u=${UUID}&uuid=${UUID}#frag`);
  });

  test('only uuid has the empty-key form (as in Talos); a given uuid is kept; blank or repeated uuid keys are filled', async () => {
    assert.equal(await substituteConfigURL('http://h/?serial=&mac=&uuid=', values, never()), `http://h/?mac=&serial=&uuid=${UUID}`);
    assert.equal(await substituteConfigURL('http://h/?uuid=mine&x=${mac}', values, never()), `http://h/?uuid=mine&x=00%3A11%3A22%3A33%3A44%3A55`);
    assert.equal(await substituteConfigURL('http://h/?uuid=%20', values, never()), `http://h/?uuid=${UUID}`);
    assert.equal(await substituteConfigURL('http://h/?uuid=a&uuid=b', values, never()), `http://h/?uuid=${UUID}`);
    assert.equal(await substituteConfigURL('http://h/?UUID=', values, never()), 'http://h/?UUID=');
  });

  test('a URL without variables comes back exactly as given', async () => {
    for (const url of ['http://h/p?b=1&a=2&x=%7e', 'http://h/${uuid}', 'http://h/p', 'file:///etc/c.yaml?uuid=given']) {
      assert.equal(await substituteConfigURL(url, {}, never()), url);
    }
  });

  test('configURLVariables', () => {
    assert.deepEqual(configURLVariables('http://h/${serial}?a=${MAC}&uuid=&b=${code}'), ['uuid', 'mac', 'code']);
    assert.deepEqual(configURLVariables('http://h/?a=1'), []);
  });

  test('waits for a value that is not known yet', async () => {
    let calls = 0;
    const got = await substituteConfigURL('http://h/?m=${mac}', { mac: () => (++calls < 3 ? '' : MAC) }, never(), { pollMs: 1 });
    assert.equal(got, 'http://h/?m=00%3A11%3A22%3A33%3A44%3A55');
    assert.equal(calls, 3);
  });

  test('providers get a signal and may wait on it', async () => {
    let resolveHostname!: (v: string) => void;
    const p = substituteConfigURL('http://h/?h=${hostname}', { hostname: () => new Promise<string>((r) => (resolveHostname = r)) }, never());
    await new Promise(setImmediate);
    resolveHostname('late');
    assert.equal(await p, 'http://h/?h=late');
  });

  test('missing values: rejects with the pending names when the signal aborts; populate gives the partial URL', async () => {
    const ac = new AbortController();
    const p = substituteConfigURL('http://h/?u=${uuid}&s=${serial}', { uuid: () => UUID }, ac.signal);
    setImmediate(() => ac.abort());
    await assert.rejects(p, (e: unknown) => isCode('BRONZE_CONFIG_URL_VARIABLES_PENDING')(e) && (e as ConfigURLError).pending?.join() === 'serial');
    const ac2 = new AbortController();
    const partial = populateConfigURL('http://h/?u=${uuid}&s=${serial}', { uuid: () => UUID, serial: () => '' }, ac2.signal, { pollMs: 1 });
    setImmediate(() => ac2.abort());
    assert.deepEqual(await partial, { url: `http://h/?s=%24%7Bserial%7D&u=${UUID}`, pending: ['serial'] });
  });

  test('a failing provider and a bad URL', async () => {
    await assert.rejects(
      substituteConfigURL('http://h/?c=${code}', { code: () => Promise.reject(new Error('META is not readable')) }, never()),
      (e: unknown) => isCode('BRONZE_CONFIG_URL_VARIABLE')(e) && /META is not readable/.test((e as Error).message),
    );
    await assert.rejects(substituteConfigURL('not a url ${uuid}', values, never()), isCode('BRONZE_CONFIG_URL_INVALID'));
  });

  test("goQueryEscape is Go's url.QueryEscape", () => {
    assert.equal(goQueryEscape("a-b_c.d~e f!*'()+/:µ"), 'a-b_c.d~e+f%21%2A%27%28%29%2B%2F%3A%C2%B5');
  });

  test('property: any value substituted into a query reads back through a standard query parser', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme' }), async (value, other) => {
        const url = await substituteConfigURL(`http://h/p?z=${encodeURIComponent(other)}&a=pre\${uuid}post&uuid=`, { uuid: () => value }, never());
        const q = new URL(url).searchParams;
        assert.equal(q.get('a'), `pre${value}post`);
        assert.equal(q.get('uuid'), value);
        assert.equal(q.get('z'), other);
        assert.deepEqual([...q.keys()], ['a', 'uuid', 'z']);
      }),
    );
  });
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('fetchConfig over HTTP', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end();
  const requests: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      handler(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  function serve(h: Handler): void {
    requests.length = 0;
    handler = h;
  }

  test('fills the query, retries 500s, then returns the body', async () => {
    let n = 0;
    serve((req, res) => {
      if (++n <= 2) {
        res.statusCode = 500;
        res.end('internal trouble');
        return;
      }
      res.end('version: v1alpha1\n');
    });
    const errors: [ConfigURLErrorCode, number | undefined, number][] = [];
    const body = await fetchConfig(`${base}/\${uuid}/c.yaml?u=\${uuid}&m=\${MAC}&h=\${hostname}&uuid=`, {
      values,
      signal: never(),
      backoff: TINY,
      onAttemptError: (e, attempt) => errors.push([e.code, e.status, attempt]),
    });
    assert.equal(body.toString(), 'version: v1alpha1\n');
    assert.deepEqual(errors, [
      ['BRONZE_CONFIG_URL_HTTP_STATUS', 500, 1],
      ['BRONZE_CONFIG_URL_HTTP_STATUS', 500, 2],
    ]);
    assert.equal(requests.length, 3);
    for (const r of requests) {
      const u = new URL(r, base);
      assert.equal(decodeURIComponent(u.pathname), '/${uuid}/c.yaml');
      assert.equal(u.search, `?h=node-1&m=00%3A11%3A22%3A33%3A44%3A55&u=${UUID}&uuid=${UUID}`);
    }
  });

  test('the status error carries the first 32 bytes of the body', async () => {
    let n = 0;
    serve((_req, res) => {
      if (++n === 1) {
        res.statusCode = 503;
        res.end('x'.repeat(100));
        return;
      }
      res.end('ok');
    });
    let seen: ConfigURLError | undefined;
    await fetchConfig(`${base}/c`, { values: {}, signal: never(), backoff: TINY, onAttemptError: (e) => (seen = e) });
    assert.equal(seen?.message, `failed to download config from "${base}/c": failed to download config, status code 503, body "${'x'.repeat(32)}"`);
    assert.equal(seen?.retryable, true);
  });

  test('404 is retried like any other status (metal sets no not-found error)', async () => {
    let n = 0;
    serve((_req, res) => {
      if (++n === 1) {
        res.statusCode = 404;
        res.end('404 page not found');
        return;
      }
      res.end('found');
    });
    const codes: (number | undefined)[] = [];
    const body = await fetchConfig(`${base}/c`, { values: {}, signal: never(), backoff: TINY, onAttemptError: (e) => codes.push(e.status) });
    assert.equal(body.toString(), 'found');
    assert.deepEqual(codes, [404]);
  });

  test('empty 200 and 204 are an empty config', async () => {
    serve((_req, res) => res.end());
    assert.equal((await fetchConfig(`${base}/c`, { values: {}, signal: never(), backoff: TINY })).length, 0);
    serve((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    assert.equal((await fetchConfig(`${base}/c`, { values: {}, signal: never(), backoff: TINY })).length, 0);
  });

  test('the total timeout ends the retries with a coded error naming the URL and the last failure', async () => {
    serve((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    let attempts = 0;
    const err = await fetchConfig(`${base}/missing`, {
      values: {},
      signal: never(),
      totalTimeoutMs: 100,
      backoff: TINY,
      onAttemptError: () => attempts++,
    }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(isCode('BRONZE_CONFIG_URL_TIMEOUT')(err), String(err));
    const e = err as ConfigURLError;
    assert.equal(e.url, `${base}/missing`);
    assert.match(e.message, new RegExp(`^failed to download config from "${base}/missing": gave up after \\d+ attempt\\(s\\) in 100ms: .*status code 404`));
    assert.ok(e.cause instanceof ConfigURLError && e.cause.status === 404);
    assert.ok(attempts >= 1 && e.attempts! >= attempts);
  });

  test('an attempt that hangs times out and is retried', async () => {
    // counted on a path of its own: a request another test left in flight must not take the first turn
    let n = 0;
    serve((req, res) => {
      if (req.url !== '/hang') return res.end('other');
      if (++n === 1) return; // never answers
      res.end('second');
    });
    const codes: ConfigURLErrorCode[] = [];
    const body = await fetchConfig(`${base}/hang`, { values: {}, signal: never(), attemptTimeoutMs: 50, backoff: TINY, onAttemptError: (e) => codes.push(e.code) });
    assert.equal(body.toString(), 'second');
    assert.deepEqual(codes, ['BRONZE_CONFIG_URL_ATTEMPT_TIMEOUT']);
  });

  test('the abort signal stops a request in flight at once', async () => {
    const ac = new AbortController();
    serve(() => ac.abort(new Error('shutting down'))); // never answers; aborts once the request is in
    const started = Date.now();
    await assert.rejects(fetchConfig(`${base}/c`, { values: {}, signal: ac.signal }), isCode('BRONZE_CONFIG_URL_ABORTED'));
    assert.ok(Date.now() - started < 1000);
  });

  test('the abort signal stops the wait between attempts and the wait for variables', async () => {
    serve((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const ac = new AbortController();
    const started = Date.now();
    await assert.rejects(
      fetchConfig(`${base}/c`, { values: {}, signal: ac.signal, backoff: { initialMs: 60_000, maxMs: 60_000, jitterMs: 0 }, onAttemptError: (_e, n) => n === 2 && ac.abort() }),
      isCode('BRONZE_CONFIG_URL_ABORTED'),
    );
    assert.ok(Date.now() - started < 1000);
    const ac2 = new AbortController();
    const p = fetchConfig(`${base}/c?u=\${uuid}`, { values: { uuid: () => new Promise<string>(() => {}) }, signal: ac2.signal });
    setImmediate(() => ac2.abort());
    await assert.rejects(p, isCode('BRONZE_CONFIG_URL_ABORTED'));
  });

  test('variables that never come: the attempt goes on without them after the variables timeout', async () => {
    serve((_req, res) => res.end('ok'));
    let pending: string[] = [];
    const body = await fetchConfig(`${base}/c?u=\${uuid}&h=\${hostname}`, {
      values: { uuid: () => '', hostname: () => 'node-1' },
      signal: never(),
      variablesTimeoutMs: 20,
      valuePollMs: 1,
      onVariablesPending: (names) => (pending = names),
    });
    assert.equal(body.toString(), 'ok');
    assert.deepEqual(pending, ['uuid']);
    assert.equal(new URL(requests[0]!, base).search, '?h=node-1&u=%24%7Buuid%7D');
  });

  test('a failing provider fails the attempt, which is retried', async () => {
    serve((req, res) => res.end(new URL(req.url!, base).searchParams.get('c')));
    let calls = 0;
    const codes: ConfigURLErrorCode[] = [];
    const body = await fetchConfig(`${base}/c?c=\${code}`, {
      values: { code: () => (++calls === 1 ? Promise.reject(new Error('not yet')) : 'xyz') },
      signal: never(),
      backoff: TINY,
      onAttemptError: (e) => codes.push(e.code),
    });
    assert.equal(body.toString(), 'xyz');
    assert.deepEqual(codes, ['BRONZE_CONFIG_URL_VARIABLE']);
  });

  test('extra headers are sent', async () => {
    serve((req, res) => res.end(String(req.headers['x-token'])));
    assert.equal((await fetchConfig(`${base}/c`, { values: {}, signal: never(), headers: { 'X-Token': 't0k' } })).toString(), 't0k');
  });

  test('loadMetalConfig downloads a URL', async () => {
    serve((_req, res) => res.end('cfg'));
    const got = await loadMetalConfig(`${base}/c`, { values: {}, signal: never() });
    assert.equal(got.kind, 'config');
    assert.equal(got.kind === 'config' && got.data.toString(), 'cfg');
  });
});

describe('fetchConfig, other schemes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bronze-config-url-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('file:// is read from disk (the query may hold variables)', async () => {
    await writeFile(join(dir, 'config.yaml'), 'machine: {}\n');
    const body = await fetchConfig(`file://${dir}/config.yaml?u=\${uuid}`, { values, signal: never() });
    assert.equal(body.toString(), 'machine: {}\n');
  });

  test('a file that cannot be read is final (not retried)', async () => {
    let attempts = 0;
    await assert.rejects(
      fetchConfig(`file://${dir}/absent.yaml`, { values: {}, signal: never(), onAttemptError: () => attempts++ }),
      (e: unknown) => isCode('BRONZE_CONFIG_URL_FILE')(e) && (e as Error).message.includes('absent.yaml'),
    );
    assert.equal(attempts, 0);
  });

  test('tftp:// and other schemes fail at once with the URL named', async () => {
    await assert.rejects(
      fetchConfig('tftp://10.0.0.1/config.yaml', { values: {}, signal: never() }),
      (e: unknown) => isCode('BRONZE_CONFIG_URL_UNSUPPORTED_SCHEME')(e) && (e as Error).message.includes('"tftp://10.0.0.1/config.yaml"') && /tftp/.test((e as Error).message),
    );
    await assert.rejects(fetchConfig('ftp://h/c', { values: {}, signal: never() }), isCode('BRONZE_CONFIG_URL_UNSUPPORTED_SCHEME'));
    await assert.rejects(fetchConfig('::not a url', { values: {}, signal: never() }), isCode('BRONZE_CONFIG_URL_INVALID'));
  });

  test('connection failures are retried until the total timeout', async () => {
    // a port that was just free: nothing listens there
    const s = createServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    s.close();
    await once(s, 'close');
    const codes = new Set<ConfigURLErrorCode>();
    await assert.rejects(
      fetchConfig(`http://127.0.0.1:${port}/c`, { values: {}, signal: never(), totalTimeoutMs: 60, backoff: TINY, onAttemptError: (e) => codes.add(e.code) }),
      isCode('BRONZE_CONFIG_URL_TIMEOUT'),
    );
    assert.deepEqual([...codes], ['BRONZE_CONFIG_URL_REQUEST']);
  });
});
