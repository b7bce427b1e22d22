import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadTalosconfig, serializeTalosconfig } from '../../client/talosconfig.js';
import { createCA, issueKeyPair } from '../../pki/cert.js';
import { configCommand } from './config.js';
import { runCommands } from './config-testing.js';
import { relTime } from './config-info.js';
import { globMatch } from './config-remove.js';

let dir: string;
let tc: string;
const run = (args: string[], stdin = '') => runCommands([configCommand], args, { HOME: join(dir, 'home'), TALOSCONFIG: tc }, stdin);

describe('bronzectl config', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-config-cli-'));
    tc = join(dir, 'talosconfig');
    const ca = await createCA('ed25519', { organization: ['talos'] });
    const client = await issueKeyPair(ca, { subject: { organization: ['os:admin', 'os:reader'] }, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    writeFileSync(join(dir, 'ca.crt'), ca.certPEM);
    writeFileSync(join(dir, 'client.crt'), client.certPEM);
    writeFileSync(join(dir, 'client.key'), client.keyPEM);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(join(dir, 'other'), serializeTalosconfig({ context: 'prod', contexts: { prod: { endpoints: ['10.0.0.2'], ca: b64(ca.certPEM), crt: b64(client.certPEM), key: b64(client.keyPEM) }, lab: { endpoints: [] } } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing talosconfig clearly', async () => {
    const r = await run(['config', 'info']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: error reading config: talosconfig not found at .*talosconfig/);
  });

  it('add creates the file (0600) with a context from PEM files', async () => {
    const r = await run(['config', 'add', 'dev', '--ca', join(dir, 'ca.crt'), '--crt', join(dir, 'client.crt'), '--key', join(dir, 'client.key')]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.equal(statSync(tc).mode & 0o777, 0o600);
    const cfg = await loadTalosconfig(tc);
    assert.equal(cfg.context, '');
    assert.equal(Buffer.from(cfg.contexts.dev!.crt!, 'base64').toString(), readFileSync(join(dir, 'client.crt'), 'utf8'));
    assert.equal((await run(['config', 'add', 'x', '--crt', join(dir, 'client.crt')])).stderr, "error: if either the 'crt' or 'key' flag is specified, both are required\n");
  });

  it('context switches and refuses unknown contexts; endpoint and node need a context', async () => {
    assert.equal((await run(['config', 'endpoint', '1.2.3.4'])).stderr, 'error: no context is set\n');
    assert.equal((await run(['config', 'context', 'nope'])).stderr, 'error: context "nope" is not defined\n');
    assert.equal((await run(['config', 'context', 'dev'])).code, 0);
    assert.equal((await run(['config', 'endpoint', ' 10.0.0.5 ', '10.0.0.6:50000'])).code, 0);
    assert.equal((await run(['config', 'nodes', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8'])).code, 0);
    const cfg = await loadTalosconfig(tc);
    assert.equal(cfg.context, 'dev');
    assert.deepEqual(cfg.contexts.dev!.endpoints, ['10.0.0.5', '10.0.0.6:50000']);
    assert.deepEqual(cfg.contexts.dev!.nodes, ['10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']);
    assert.equal((await run(['config', 'endpoint'])).code, 1);
  });

  it('merge adds contexts, renaming on conflict as talosctl, and switches to the merged current context', async () => {
    assert.deepEqual(await run(['config', 'merge', join(dir, 'other')]), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await run(['config', 'merge', join(dir, 'other')]), { code: 0, stdout: '', stderr: 'renamed talosconfig context "lab" -> "lab-1"\nrenamed talosconfig context "prod" -> "prod-1"\n' });
    const cfg = await loadTalosconfig(tc);
    assert.equal(cfg.context, 'prod-1');
    assert.deepEqual(Object.keys(cfg.contexts).sort(), ['dev', 'lab', 'lab-1', 'prod', 'prod-1']);
  });

  it('contexts lists them as a table', async () => {
    const r = await run(['config', 'contexts']);
    assert.equal(
      r.stdout,
      [
        'CURRENT   NAME     ENDPOINTS                 NODES',
        '          dev      10.0.0.5,10.0.0.6:50000   10.0.0.5,10.0.0.6,10.0.0.7...',
        '          lab                                ',
        '          lab-1                              ',
        '          prod     10.0.0.2                  ',
        '*         prod-1   10.0.0.2                  ',
        '',
      ].join('\n'),
    );
  });

  it('info shows the context, its roles and the certificate expiry, as text, JSON or YAML', async () => {
    const r = await run(['config', 'info']);
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 4), ['Current context:     prod-1', 'Nodes:               not defined', 'Endpoints:           10.0.0.2', 'Roles:               os:admin, os:reader']);
    assert.match(lines[4]!, /^Certificate expires: 1 year from now \(\d{4}-\d{2}-\d{2}\)$/);
    const json = JSON.parse((await run(['config', 'info', '-o', 'json', '--context', 'dev'])).stdout);
    assert.equal(json.context, 'prod-1');
    assert.deepEqual(json.nodes, ['10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']);
    assert.match((await run(['config', 'info', '-o', 'yaml'])).stdout, /^context: prod-1\nnodes: \[\]\nendpoints:\n {4}- 10\.0\.0\.2\n/);
    assert.equal((await run(['config', 'info', '-o', 'xml'])).stderr, 'error: unknown output format: "xml"\n');
  });

  it('--context picks the context endpoint and node change', async () => {
    assert.equal((await run(['config', 'endpoint', '10.9.9.9', '--context', 'lab'])).code, 0);
    assert.deepEqual((await loadTalosconfig(tc)).contexts.lab!.endpoints, ['10.9.9.9']);
    assert.equal((await run(['config', 'node', '--context', 'dev'])).code, 0);
    assert.equal((await loadTalosconfig(tc)).contexts.dev!.nodes, undefined);
  });

  it('remove matches a glob, keeps the current context, asks unless -y, and honours --dry-run', async () => {
    let r = await run(['config', 'remove', 'lab*'], 'y\nn\n');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'remove context "lab"? [y/N]: remove context "lab-1"? [y/N]: ');
    r = await run(['config', 'remove', 'prod*', '-y']);
    assert.equal(r.stderr, 'removing context "prod"\nskipping removal of current context "prod-1", please change it to another before removing\n');
    r = await run(['config', 'remove', 'dev', '-y', '--dry-run']);
    assert.equal(r.stderr, 'removing context "dev"\n');
    assert.deepEqual(Object.keys((await loadTalosconfig(tc)).contexts).sort(), ['dev', 'lab-1', 'prod-1']);
    assert.equal((await run(['config', 'remove', 'zzz*', '-y'])).stderr, 'error: no contexts matched "zzz*"\n');
  });

  it('writes where $TALOSCONFIG or --talosconfig say', async () => {
    const other = join(dir, 'sub', 'tc2');
    assert.equal((await runCommands([configCommand], ['config', 'add', 'x', '--talosconfig', other], { HOME: join(dir, 'home') })).code, 0);
    assert.deepEqual(Object.keys((await loadTalosconfig(other)).contexts), ['x']);
  });

  it('matches globs and tells relative times as talosctl', () => {
    assert.ok(globMatch('prod*', 'prod-1'));
    assert.ok(globMatch('*-1', 'prod-1'));
    assert.ok(globMatch('p*d*1', 'prod-1'));
    assert.ok(!globMatch('prod', 'prod-1'));
    const now = new Date('2021-07-05T22:06:42Z');
    assert.equal(relTime(new Date('2031-07-03T11:18:33Z'), now), '10 years from now');
    assert.equal(relTime(new Date('2021-07-08T22:06:42Z'), now), '3 days from now');
    assert.equal(relTime(new Date('2021-07-05T21:06:42Z'), now), '1 hour ago');
  });
});
