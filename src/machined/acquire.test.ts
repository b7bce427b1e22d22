import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateBundle } from '../config/generate/config.js';
import { acquireConfig, type ConfigSource } from './acquire.js';

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
});
