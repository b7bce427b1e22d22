import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SERVICE_ACCOUNT_TALOSCONFIG, loadTalosconfig, mergeTalosconfig, parseTalosconfig, resolveContext, serializeTalosconfig, type Talosconfig, TalosconfigError, talosconfigPath, writeTalosconfig } from './talosconfig.js';

const sample = `context: prod
contexts:
  prod:
    endpoints:
      - 10.5.0.2
      - 10.5.0.3:50000
    nodes:
      - 10.5.0.2
    ca: Y2E=
    crt: Y3J0
    key: a2V5
  old:
    target: 192.168.1.10
    ca: Y2E=
`;

describe('talosconfig', () => {
  it('finds the file as talosctl does', () => {
    assert.equal(talosconfigPath('/x/config', { TALOSCONFIG: '/y' }), '/x/config');
    assert.equal(talosconfigPath(undefined, { TALOSCONFIG: '/y/config' }), '/y/config');
    assert.equal(talosconfigPath(undefined, { TALOS_HOME: '/opt/talos', HOME: '/root' }), '/opt/talos/config');
    assert.equal(talosconfigPath(undefined, { TALOS_HOME: 'relative', HOME: '/home/u' }), '/home/u/.talos/config');
    assert.equal(talosconfigPath(undefined, { HOME: '/home/u' }, () => false), '/home/u/.talos/config');
    // in a pod with Talos API access, the mounted read-only talosconfig is used when ~/.talos/config is absent
    assert.equal(talosconfigPath(undefined, { HOME: '/home/u' }, (p) => p === SERVICE_ACCOUNT_TALOSCONFIG), SERVICE_ACCOUNT_TALOSCONFIG);
    assert.equal(talosconfigPath(undefined, { HOME: '/home/u' }, () => true), '/home/u/.talos/config');
  });

  it('parses contexts and turns the legacy target into an endpoint', () => {
    const cfg = parseTalosconfig(sample);
    assert.equal(cfg.context, 'prod');
    assert.deepEqual(cfg.contexts.prod, { endpoints: ['10.5.0.2', '10.5.0.3:50000'], nodes: ['10.5.0.2'], ca: 'Y2E=', crt: 'Y3J0', key: 'a2V5' });
    assert.deepEqual(cfg.contexts.old, { endpoints: ['192.168.1.10'], ca: 'Y2E=' });
    assert.deepEqual(parseTalosconfig(''), { context: '', contexts: {} });
  });

  it('names the path of what is wrong', () => {
    assert.throws(() => parseTalosconfig('contexts:\n  a:\n    endpoints: 5\n'), (e: unknown) => e instanceof TalosconfigError && e.message === 'talosconfig: contexts.a.endpoints: expected a list of strings');
    assert.throws(() => parseTalosconfig('contexts:\n  a:\n    auth: {basic: {username: 5}}\n'), { message: 'talosconfig: contexts.a.auth.basic.username: expected a string' });
    assert.throws(() => parseTalosconfig('- a\n'), /expected a mapping/);
    assert.throws(() => parseTalosconfig('context: [\n'), (e: unknown) => e instanceof TalosconfigError && e.code === 'BRONZE_TALOSCONFIG_INVALID');
  });

  it('ignores keys it does not know and keeps auth, as talosctl does', () => {
    const cfg = parseTalosconfig('context: a\ncontexts:\n  a:\n    endpoints: [x]\n    proxy-url: http://p\n    auth:\n      basic: {username: u, password: p}\n');
    assert.deepEqual(cfg.contexts.a, { endpoints: ['x'], auth: { basic: { username: 'u', password: 'p' } } });
  });

  it('serializes as talosctl: sorted contexts, four-space indentation, endpoints always present', () => {
    const text = serializeTalosconfig({ context: 'z', contexts: { z: { endpoints: [], cluster: 'c' }, a: { endpoints: ['1.2.3.4'], nodes: ['n'], ca: 'Y2E=' } } });
    assert.equal(
      text,
      'context: z\ncontexts:\n    a:\n        endpoints:\n            - 1.2.3.4\n        nodes:\n            - n\n        ca: Y2E=\n    z:\n        endpoints: []\n        cluster: c\n',
    );
  });

  it('resolves contexts with clear errors', () => {
    const cfg = parseTalosconfig(sample);
    assert.deepEqual(resolveContext(cfg).endpoints, ['10.5.0.2', '10.5.0.3:50000']);
    assert.deepEqual(resolveContext(cfg, 'old').endpoints, ['192.168.1.10']);
    assert.throws(() => resolveContext(cfg, 'dev'), { message: 'context "dev" is not defined in talosconfig (contexts: old, prod)' });
    assert.throws(() => resolveContext({ context: '', contexts: {} }), /no context is set/);
  });

  it('merges with talosctl renames and switches to the merged context', () => {
    const into: Talosconfig = { context: 'a', contexts: { a: { endpoints: ['1'] }, b: { endpoints: ['2'] }, 'b-1': { endpoints: ['3'] } } };
    const from: Talosconfig = { context: 'b', contexts: { b: { endpoints: ['4'] }, c: { endpoints: ['5'] } } };
    assert.deepEqual(mergeTalosconfig(into, from), [{ from: 'b', to: 'b-2' }]);
    assert.equal(into.context, 'b-2');
    assert.deepEqual(into.contexts['b-2'], { endpoints: ['4'] });
    assert.deepEqual(into.contexts.c, { endpoints: ['5'] });
    assert.deepEqual(into.contexts.b, { endpoints: ['2'] });
  });

  it('round-trips through a 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-tc-'));
    try {
      const path = join(dir, 'sub', 'config');
      const cfg = parseTalosconfig(sample);
      await writeTalosconfig(path, cfg);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(await loadTalosconfig(path), cfg);
      assert.ok(readFileSync(path, 'utf8').startsWith('context: prod\ncontexts:\n    old:\n        endpoints:\n            - 192.168.1.10\n'));
      assert.equal(serializeTalosconfig(await loadTalosconfig(path)), readFileSync(path, 'utf8'));
      await assert.rejects(loadTalosconfig(join(dir, 'missing')), (e: unknown) => e instanceof TalosconfigError && e.code === 'BRONZE_TALOSCONFIG_NOT_FOUND' && e.message.includes(join(dir, 'missing')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
