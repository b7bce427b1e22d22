import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateBundle } from '../config/generate/config.js';
import { createServer } from 'node:http';
import { acquireConfig, type ConfigSource, metalConfigSource } from './acquire.js';

describe('config acquisition', async () => {
  const bundle = await generateBundle({ clusterName: 'acq', endpoint: 'https://10.5.0.2:6443' });
  const full = bundle.worker.toString();
  const partial = 'apiVersion: v1alpha1\nkind: SideroLinkConfig\napiUrl: https://siderolink.example:8099?jointoken=x\n';
  const source = (name: ConfigSource['name'], value: string | undefined | Error): ConfigSource => ({
    name,
    load: async () => {
      if (value instanceof Error) throw value;
      return value === undefined ? undefined : Buffer.from(value);
    },
  });
  const signal = new AbortController().signal;

  it('takes the first complete config, in order', async () => {
    const r = await acquireConfig([source('disk', undefined), source('cmdline-early', full), source('platform', 'never read')], { signal });
    assert.deepEqual(r, { kind: 'config', text: full, source: 'cmdline-early' });
  });

  it('goes to maintenance with nothing, keeping a partial config found on the way', async () => {
    assert.deepEqual(await acquireConfig([source('disk', undefined)], { signal }), { kind: 'maintenance' });
    assert.deepEqual(await acquireConfig([source('disk', undefined), source('cmdline-early', partial), source('platform', undefined)], { signal }), { kind: 'maintenance', partial: { text: partial, source: 'cmdline-early' } });
  });

  it('reports failing sources and invalid configs by name, and goes on', async () => {
    const errors: string[] = [];
    const r = await acquireConfig([source('disk', 'version: v1alpha1\nmachine:\n  typo: 1\n'), source('platform', new Error('GET http://10.0.2.100/config: 404')), source('cmdline-late', full)], {
      signal,
      onError: (name, err) => errors.push(`${name}: ${err.message}`),
    });
    assert.equal(r.kind, 'config');
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /^disk: the config from disk is invalid: .*machine\.typo/);
    assert.equal(errors[1], 'platform: loading the config from platform: GET http://10.0.2.100/config: 404');
  });

  it('downloads the talos.config URL on metal, asking for the machine\'s values, after the disk had none', async () => {
    const asked: string[] = [];
    let failures = 1;
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (failures-- > 0) {
        res.statusCode = 503;
        res.end('busy');
        return;
      }
      res.end(full);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const platform = metalConfigSource(`http://127.0.0.1:${port}/config?uuid=\${uuid}&mac=\${mac}`, {
        values: { uuid: () => '4c4c4544-0042', mac: () => '52:54:00:12:34:56' },
        backoff: { initialMs: 1, maxMs: 5, jitterMs: 0 },
      });
      const r = await acquireConfig([source('disk', undefined), platform], { signal });
      assert.deepEqual(r, { kind: 'config', text: full, source: 'platform' });
      assert.equal(asked.length, 2, 'retried once after the 503');
      assert.equal(asked[1], '/config?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=4c4c4544-0042');
      assert.deepEqual(await acquireConfig([metalConfigSource('none', { values: {} })], { signal }), { kind: 'maintenance' });
    } finally {
      server.close();
    }
  });

  it('downloads on metal only once the network has an address', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.end(full);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let ready!: () => void;
    const waited = new Promise<void>((r) => (ready = r));
    let waiting = false;
    try {
      const platform = metalConfigSource(`http://127.0.0.1:${port}/config`, {
        values: {},
        networkReady: async () => {
          waiting = true;
          await waited;
        },
      });
      const got = acquireConfig([platform], { signal });
      await new Promise<void>((r) => setImmediate(r));
      assert.equal(waiting, true);
      assert.deepEqual(asked, [], 'nothing downloaded before the address');
      ready();
      assert.deepEqual(await got, { kind: 'config', text: full, source: 'platform' });
      assert.deepEqual(asked, ['/config']);
      // `none` does not wait for the network
      assert.deepEqual(await acquireConfig([metalConfigSource('none', { values: {}, networkReady: () => new Promise<void>(() => undefined) })], { signal }), { kind: 'maintenance' });
    } finally {
      server.close();
    }
  });
});
