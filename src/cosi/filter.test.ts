import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAccessDenied } from './errors.js';
import { ReadOnlyFilter } from './filter.js';
import { InMemoryState } from './inmem.js';
import { newResource } from './resource.js';

describe('read-only filtered view', () => {
  it('reads only allowed types and IDs and refuses writes', async () => {
    const inner = new InMemoryState();
    await inner.create(newResource({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'api' }, { x: 1 }));
    await inner.create(newResource({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'other' }, { x: 2 }));
    await inner.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' }, { a: [] }));
    await inner.create(newResource({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }, { k: 's' }));
    const f = new ReadOnlyFilter(inner, [
      { namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'api' },
      { namespace: 'network', type: 'NodeAddresses.net.talos.dev' },
    ]);
    assert.deepEqual((await f.get({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'api' })).spec, { x: 1 });
    await assert.rejects(f.get({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'other' }), isAccessDenied);
    assert.deepEqual((await f.list({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev' })).map((r) => r.metadata.id), ['api']);
    assert.equal((await f.list({ namespace: 'network', type: 'NodeAddresses.net.talos.dev' })).length, 1);
    await assert.rejects(f.get({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' }), isAccessDenied);
    await assert.rejects(f.list({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev' }), isAccessDenied);
    assert.throws(() => f.watchKind({ namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev' }), isAccessDenied);
    await assert.rejects(f.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'x' }, {})), /write access is not allowed/);
    await assert.rejects(f.destroy({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' }), isAccessDenied);
  });
});
