import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateConformance } from './conformance/state-suite.js';
import { isAccessDenied } from './errors.js';
import { type Access, FilteredState, readOnlyView } from './filter.js';
import { InMemoryState } from './inmem.js';
import { newResource } from './resource.js';

// a filter that allows everything must behave as the state behind it
stateConformance('filtered, allowing everything', async () => ({ state: new FilteredState(new InMemoryState(), () => {}), cleanup: async () => {} }));

const certs = { namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev' };
const addresses = { namespace: 'network', type: 'NodeAddresses.net.talos.dev' };
const root = { namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev' };

describe('filtered state', () => {
  it('gives apid and trustd reads of allowed types and single resources only, and no writes', async () => {
    const inner = new InMemoryState();
    await inner.create(newResource({ ...certs, id: 'api' }, { x: 1 }));
    await inner.create(newResource({ ...certs, id: 'other' }, { x: 2 }));
    await inner.create(newResource({ ...addresses, id: 'current' }, { a: [] }));
    await inner.create(newResource({ ...root, id: 'os' }, { k: 's' }));
    const f = readOnlyView(inner, [{ ...certs, id: 'api' }, addresses]);
    const ac = new AbortController();
    try {
      assert.deepEqual((await f.get({ ...certs, id: 'api' })).spec, { x: 1 });
      const w = await f.watch({ ...certs, id: 'api' }, {}, ac.signal);
      assert.equal((await w.next()).value?.resource?.metadata.id, 'api');
      await assert.rejects(f.get({ ...certs, id: 'other' }), isAccessDenied);
      // an ID-restricted entry allows no list or kind watch of its type
      await assert.rejects(f.list(certs), isAccessDenied);
      await assert.rejects(f.watchKind(certs, {}, ac.signal), isAccessDenied);
      assert.equal((await f.list(addresses)).length, 1);
      const kw = await f.watchKindAggregated(addresses, { bootstrapContents: true }, ac.signal);
      assert.deepEqual((await kw.next()).value?.map((e) => e.type), ['created', 'bootstrapped']);
      await assert.rejects(f.get({ ...root, id: 'os' }), isAccessDenied);
      await assert.rejects(f.list(root), isAccessDenied);
      await assert.rejects(f.create(newResource({ ...addresses, id: 'x' }, {})), (e: unknown) => isAccessDenied(e) && /write access denied/.test((e as Error).message));
      await assert.rejects(f.destroy({ ...addresses, id: 'current' }), isAccessDenied);
      await assert.rejects(f.update(await inner.get({ ...addresses, id: 'current' })), isAccessDenied);
      assert.ok(await inner.get({ ...addresses, id: 'current' }), 'nothing was destroyed');
    } finally {
      ac.abort();
    }
  });

  it('hands every call to its rule with the verb and the resource', async () => {
    const seen: Access[] = [];
    const f = new FilteredState(new InMemoryState(), (a) => void seen.push(a));
    const ac = new AbortController();
    await f.create(newResource({ ...addresses, id: 'a' }, {}));
    const r = await f.get({ ...addresses, id: 'a' });
    await f.update(r);
    await f.list(addresses);
    await f.watch({ ...addresses, id: 'a' }, {}, ac.signal);
    await f.watchKind(addresses, {}, ac.signal);
    await f.destroy({ ...addresses, id: 'a' });
    ac.abort();
    assert.deepEqual(
      seen.map((a) => `${a.verb} ${a.namespace} ${a.type} ${a.id}`),
      ['create', 'get', 'update', 'list', 'watch', 'watch', 'destroy'].map((v, i) => `${v} network NodeAddresses.net.talos.dev ${[3, 5].includes(i) ? '' : 'a'}`),
    );
  });
});
