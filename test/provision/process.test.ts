import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCluster } from '../../src/provision/process.js';
import { bronzectl as runBronzectl } from '../helpers/bronzectl.js';
import { listening } from '../helpers/ports.js';

const bronzectl = (env: NodeJS.ProcessEnv, ...args: string[]) => runBronzectl(args, env);


/** `cluster create` with the process provisioner, the API of every node, and `cluster destroy` leaving nothing. */
describe('bronzectl cluster (process provisioner)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const state = () => join(dir, 'clusters');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-prov-'));
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a control plane and a worker, answers through them, and destroys them without a trace', { timeout: 180_000 }, async () => {
    const c = await bronzectl(env, 'cluster', 'create', '--name', 'ci', '--state', state(), '--cidr', '127.77.5.0/24', '--wait-timeout', '2m');
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /cluster "ci" is up/);
    assert.match(c.stderr, /ci-worker-1 API is up/);
    const info = readCluster(state(), 'ci');
    assert.deepEqual(info.nodes.map((n) => [n.name, n.type, n.address]), [
      ['ci-controlplane-1', 'controlplane', '127.77.5.2'],
      ['ci-worker-1', 'worker', '127.77.5.3'],
    ]);

    const v = await bronzectl(env, '-n', '127.77.5.3', 'version');
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /NODE:        127\.77\.5\.3/);
    const all = await bronzectl(env, 'services');
    assert.match(all.stdout, /127\.77\.5\.2\s+apid\s+Running/);
    assert.match(all.stdout, /127\.77\.5\.2\s+trustd\s+Running/);
    assert.match(all.stdout, /127\.77\.5\.3\s+apid\s+Running/);
    const show = await bronzectl(env, 'cluster', 'show', '--name', 'ci', '--state', state());
    assert.match(show.stdout, /ci-worker-1\s+worker\s+127\.77\.5\.3/);

    const d = await bronzectl(env, 'cluster', 'destroy', '--name', 'ci', '--state', state());
    assert.equal(d.code, 0, d.stderr);
    assert.equal(existsSync(join(state(), 'ci')), false);
    for (const n of info.nodes) {
      assert.throws(() => process.kill(n.pid, 0), /ESRCH/, `${n.name} still runs`);
    }
    assert.ok(info.discovery, 'the cluster has its discovery service');
    assert.throws(() => process.kill(info.discovery!.pid, 0), /ESRCH/, 'the discovery service still runs');
    for (const [host, port] of [
      ['127.77.5.2', 50000],
      ['127.77.5.2', 50001],
      ['127.77.5.3', 50000],
      ['127.77.5.1', 3000],
    ] as const) {
      assert.equal(await listening(host, port), false, `${host}:${port} still listens`);
    }
  });

  it('refuses a range off loopback and names the flag', async () => {
    const r = await bronzectl(env, 'cluster', 'create', '--name', 'x', '--state', state(), '--cidr', '10.5.0.0/24');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--cidr: the process provisioner runs nodes on loopback addresses/);
  });
});
