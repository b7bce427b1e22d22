import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYAML } from 'yaml';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { serializeTalosconfig } from '../../src/client/talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { freePort } from '../helpers/ports.js';
import { occurrences, waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.21.2';

/**
 * `bronzectl meta` writes and deletes META keys; `reboot` and `shutdown` wait (by default) until the node is back or
 * gone.
 */
describe('bronzectl meta, reboot and shutdown on a process node', () => {
  let dir: string;
  let node: ChildProcess;
  let exited: Promise<number | null>;
  let client: Client;
  let args: string[];
  let config: string;
  let endpoint: string;
  const bootId = async () => {
    let text = '';
    for await (const d of client.machine.read({ path: '/proc/sys/kernel/random/boot_id' }, { timeout: 10_000 })) text += Buffer.from(d.bytes).toString();
    return text.trim();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-cli-life-'));
    const apiPort = await freePort(ADDRESS);
    const bundle = await generateBundle({ clusterName: 'life', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    config = bundle.controlplane.toString();
    new ConfigStore(dir).write(Buffer.from(config));
    node = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'machined', '--state', dir, '--address', ADDRESS, '--api-port', String(apiPort), '--trustd-port', String(await freePort(ADDRESS))], {
      cwd: root,
      detached: true,
      stdio: 'ignore',
    });
    exited = new Promise((r) => node.once('exit', (code) => r(code)));
    writeFileSync(join(dir, 'talosconfig'), serializeTalosconfig(bundle.talosconfig));
    endpoint = `${ADDRESS}:${apiPort}`;
    args = ['--talosconfig', join(dir, 'talosconfig'), '-e', endpoint, '-n', ADDRESS];
    client = new Client(clientOptionsFromContext(bundle.talosconfig.contexts.life!, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    await waitForFile(dir, join(dir, 'logs', 'apid.log'), (t) => occurrences(t, 'apid serving') >= 1, 60_000);
  });

  after(() => {
    client?.close();
    try {
      process.kill(-node.pid!, 'SIGKILL');
    } catch {
      // shut down already
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes and deletes META keys', { timeout: 30_000 }, async () => {
    const metaKey = () => client.cosi.get({ namespace: 'runtime', type: 'MetaKeys.runtime.talos.dev', id: '0x0a' }, { timeout: 10_000 });
    const w = await bronzectl([...args, 'meta', 'write', '0x0a', 'hello']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout + w.stderr, '');
    assert.match((await metaKey()).resource!.spec!.yamlSpec, /^value: hello\n$/);
    const d = await bronzectl([...args, 'meta', 'delete', '10']);
    assert.equal(d.code, 0, d.stderr);
    await assert.rejects(metaKey(), /NotFound/);
    const bad = await bronzectl([...args, 'meta', 'write', '300', 'x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /parsing "300": value out of range/);
  });

  it('downloads the admin kubeconfig, and merges a second one beside it', { timeout: 30_000 }, async () => {
    const path = join(dir, 'kube', 'config');
    const w = await bronzectl([...args, 'kubeconfig', path]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const first = parseYAML(readFileSync(path, 'utf8')) as { 'current-context': string; clusters: { name: string; cluster: { server: string } }[] };
    assert.equal(first['current-context'], 'admin@life');
    assert.deepEqual(first.clusters.map((c) => [c.name, c.cluster.server]), [['life', `https://${ADDRESS}:6443`]]);
    // a second download has a new client certificate: merged beside the first under new names
    const m = await bronzectl([...args, 'kubeconfig', path]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /renamed user "admin@life" -> "admin@life-1"/);
    const merged = parseYAML(readFileSync(path, 'utf8')) as { 'current-context': string; users: { name: string }[] };
    assert.deepEqual(merged.users.map((u) => u.name), ['admin@life', 'admin@life-1']);
    assert.equal(merged['current-context'], 'admin@life-1');
    const out = await bronzectl([...args, 'kubeconfig', '-']);
    assert.match(out.stdout, /^apiVersion: v1\n/);
  });

  it('refuses an unknown reboot mode, naming the flag', async () => {
    const r = await bronzectl([...args, 'reboot', '--mode', 'gently']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid argument "gently" for "-m, --mode" flag/);
  });

  it('reboots and waits until the node is back with a new boot id', { timeout: 120_000 }, async () => {
    const before = await bootId();
    const r = await bronzectl([...args, 'reboot', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^${ADDRESS.replace(/\./g, '\\.')}: rebooting \\(actor [0-9a-f-]{36}\\)\\n${ADDRESS.replace(/\./g, '\\.')}: rebooted\\n$`));
    const after = await bootId();
    assert.notEqual(after, before);
    assert.equal(node.exitCode, null);
  });

  it('resets with a reboot and waits until the node serves the maintenance API; a config brings it back', { timeout: 120_000 }, async () => {
    assert.match((await bronzectl([...args, 'reset', '--insecure'])).stderr, /cannot use --wait and --insecure together/);
    const r = await bronzectl([...args, 'reset', '--reboot', '--graceful=false', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /: resetting \(actor [0-9a-f-]{36}\)\n.*: reset and rebooted\n$/);
    writeFileSync(join(dir, 'controlplane.yaml'), config);
    const a = await bronzectl(['apply-config', '--insecure', '-n', endpoint, '-f', join(dir, 'controlplane.yaml')]);
    assert.equal(a.code, 0, a.stderr);
    await waitForFile(dir, join(dir, 'logs', 'apid.log'), (t) => occurrences(t, '"maintenance":false') >= 3, 60_000);
  });

  it('shuts down and waits until the node no longer answers', { timeout: 120_000 }, async () => {
    const r = await bronzectl([...args, 'shutdown', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /: shut down\n$/);
    assert.equal(await exited, 0);
  });
});
