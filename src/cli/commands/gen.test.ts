import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadTalosconfig } from '../../client/talosconfig.js';
import { parseSecrets } from '../../config/generate/secrets.js';
import { loadConfig } from '../../config/loader.js';
import { configCommand } from './config.js';
import { runCommands } from './config-testing.js';
import { genCommand } from './gen.js';
import { validateCommand } from './validate.js';

let dir: string;
let cwd: string;
const run = (args: string[], stdin = '') => runCommands([configCommand, genCommand, validateCommand], args, { HOME: join(dir, 'home') }, stdin);
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
const mode = (p: string) => statSync(p).mode & 0o777;

describe('bronzectl gen', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-gen-cli-'));
    cwd = process.cwd();
    process.chdir(dir);
  });
  after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gen secrets writes a 0600 secrets.yaml, refuses to overwrite it without --force', async () => {
    const r = await run(['gen', 'secrets']);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.equal(mode('secrets.yaml'), 0o600);
    const b = parseSecrets(readFileSync('secrets.yaml', 'utf8'));
    assert.ok(b.secrets.secretboxencryptionsecret);
    const again = await run(['gen', 'secrets']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'error: file "secrets.yaml" already exists, use --force to overwrite\n');
    assert.equal((await run(['gen', 'secrets', '-f'])).code, 0);
    assert.notDeepEqual(parseSecrets(readFileSync('secrets.yaml', 'utf8')), b);
  });

  it('gen secrets prints to stdout with -o -, honours --talos-version', async () => {
    const r = await run(['gen', 'secrets', '-o', '-', '--talos-version', 'v1.2']);
    assert.equal(r.code, 0);
    const b = parseSecrets(r.stdout);
    assert.ok(b.secrets.aescbcencryptionsecret);
    assert.equal(b.secrets.secretboxencryptionsecret, undefined);
    assert.equal((await run(['gen', 'secrets', '-o', '-', '--talos-version', 'latest'])).stderr, 'error: error parsing version "vlatest"\n');
  });

  it('gen config writes controlplane.yaml, worker.yaml (0644) and talosconfig (0600) from a secrets bundle, with patches', async () => {
    writeFileSync('cp-patch.yaml', 'machine:\n  nodeLabels:\n    role: cp\n');
    const r = await run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', 'secrets.yaml', '-o', 'out', '--config-patch', '{"cluster": {"allowSchedulingOnControlPlanes": true}}', '--config-patch-control-plane', '@cp-patch.yaml', '--config-patch-worker', 'machine:\n  sysctls:\n    vm.x: "1"\n', '--additional-sans', 'a.example,10.5.0.9', '--dns-domain', 'corp.local', '--install-disk', '/dev/vda']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `Created ${join('out', 'controlplane.yaml')}\nCreated ${join('out', 'worker.yaml')}\nCreated ${join('out', 'talosconfig')}\n`);
    assert.equal(mode('out/controlplane.yaml'), 0o644);
    assert.equal(mode('out/talosconfig'), 0o600);
    const secrets = parseSecrets(readFileSync('secrets.yaml', 'utf8'));
    const cp = loadConfig(readFileSync('out/controlplane.yaml', 'utf8')).v1alpha1!;
    const worker = loadConfig(readFileSync('out/worker.yaml', 'utf8')).v1alpha1!;
    assert.equal(cp.machine!.ca!.crt, secrets.certs.os.crt);
    assert.equal(cp.machine!.nodeLabels!.role, 'cp');
    assert.equal(worker.machine!.nodeLabels, undefined);
    assert.equal(worker.machine!.sysctls!['vm.x'], '1');
    assert.equal(cp.cluster!.allowSchedulingOnControlPlanes, true);
    assert.deepEqual(cp.machine!.certSANs, ['a.example', '10.5.0.9']);
    assert.equal(cp.cluster!.network!.dnsDomain, 'corp.local');
    assert.equal(cp.machine!.install!.disk, '/dev/vda');
    assert.match(readFileSync('out/controlplane.yaml', 'utf8'), /# the role of the machine in the cluster/);
    const tc = await loadTalosconfig('out/talosconfig');
    assert.equal(tc.context, 'demo');
    assert.equal(tc.contexts.demo!.ca, secrets.certs.os.crt);
    const v = await run(['validate', '--config', 'out/controlplane.yaml', '--mode', 'metal']);
    assert.deepEqual(v, { code: 0, stdout: 'out/controlplane.yaml is valid for metal mode\n', stderr: '' });
    assert.equal((await run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '-o', 'out'])).stderr.split('\n')[0], `error: file "${join('out', 'controlplane.yaml')}" already exists, use --force to overwrite; file "${join('out', 'worker.yaml')}" already exists, use --force to overwrite; file "${join('out', 'talosconfig')}" already exists, use --force to overwrite`);
  });

  it('gen config prints one output type to stdout, without docs when asked', async () => {
    const r = await run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '-t', 'worker', '-o', '-', '--with-docs=false', '--with-examples=false', '--talos-version', 'v1.10', '--kubernetes-version', 'v1.33.1']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /#/);
    const docs = r.stdout.split('---\n').map((d) => parse(d));
    assert.equal(docs.length, 1);
    assert.equal(docs[0].machine.type, 'worker');
    assert.equal(docs[0].machine.kubelet.image, 'ghcr.io/siderolabs/kubelet:v1.33.1');
    assert.equal(docs[0].machine.features.stableHostname, true);
  });

  it('gen config checks the endpoint and flags as talosctl', async () => {
    const cases: [string[], string][] = [
      [['gen', 'config', 'demo', '10.5.0.2'], 'error: no scheme and port specified for the cluster endpoint URL\ntry: "https://10.5.0.2:6443"\n'],
      [['gen', 'config', 'demo', '10.5.0.2:6443'], 'error: no scheme specified for the cluster endpoint URL\ntry: "https://10.5.0.2:6443"\n'],
      [['gen', 'config', 'demo', 'http://10.5.0.2:6443'], 'error: the control plane endpoint URL should have scheme https://\ntry: "https://10.5.0.2:6443"\n'],
      [['gen', 'config', 'demo', 'https://10.5.0.2:99999'], 'error: error validating the cluster endpoint URL: port number must be between 1 and 65535\n'],
      [['gen', 'config', 'demo', 'https://10.5.0.2:6443', '-t', 'controlplane,worker', '-o', '-'], "error: can't use multiple output types with stdout\nRun 'bronzectl gen config --help' for usage.\n"],
      [['gen', 'config', 'demo', 'https://10.5.0.2:6443', '-t', 'kubeconfig'], 'error: invalid output type: "kubeconfig"\nRun \'bronzectl gen config --help\' for usage.\n'],
      [['gen', 'config', 'demo'], 'error: bronzectl gen config: accepts 2 arg(s), received 1\n'],
      [['gen', 'config', 'demo', 'https://10.5.0.2:6443', '-o', '-', '-t', 'worker', '--config-patch', 'machine:\n  bogus: 1\n'], /^error: error parsing config patch: error decoding document \/v1alpha1\/ \(line 1\): unknown keys found during decoding: \.machine\.bogus \(line 2\)\n$/.source],
    ];
    for (const [args, want] of cases) {
      const r = await run(args);
      assert.equal(r.code, 1, args.join(' '));
      if (want.startsWith('^')) assert.match(r.stderr, new RegExp(want));
      else assert.equal(r.stderr.replace(/\nRun .*\n$/, '\n'), want.replace(/\nRun .*\n$/, '\n'));
    }
  });

  it('gen ca, key, csr and crt make a client certificate that OpenSSL verifies', async () => {
    assert.equal((await run(['gen', 'ca', '--organization', 'myca'])).code, 0);
    for (const f of ['myca.crt', 'myca.key', 'myca.sha256']) assert.equal(mode(f), 0o600);
    assert.match(readFileSync('myca.sha256', 'utf8'), /^sha256:[0-9a-f]{64}$/);
    assert.ok(readFileSync('myca.key', 'utf8').startsWith('-----BEGIN ED25519 PRIVATE KEY-----'));
    assert.equal((await run(['gen', 'key', '--name', 'client'])).code, 0);
    assert.ok(readFileSync('client.key', 'utf8').startsWith('-----BEGIN ED25519 PRIVATE KEY-----'));
    assert.equal((await run(['gen', 'csr', '--key', 'client.key', '--ip', '10.0.0.7', '--roles', 'os:reader'])).code, 0);
    assert.match(openssl('req', '-in', 'client.csr', '-noout', '-verify', '-text'), /Subject: O ?= ?os:reader[\s\S]*IP Address:10\.0\.0\.7/);
    assert.equal((await run(['gen', 'crt', '--name', 'client', '--ca', 'myca', '--csr', 'client.csr', '--hours', '48'])).code, 0);
    assert.equal(openssl('verify', '-CAfile', 'myca.crt', '-purpose', 'sslclient', 'client.crt').trim(), 'client.crt: OK');
    const text = openssl('x509', '-in', 'client.crt', '-noout', '-text');
    assert.match(text, /Signature Algorithm: ED25519/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Client Authentication\n/);
    assert.match(text, /IP Address:10\.0\.0\.7/);
    const crt = new (await import('node:crypto')).X509Certificate(readFileSync('client.crt'));
    assert.equal(new Date(crt.validTo).getTime() - new Date(crt.validFrom).getTime(), 48 * 3_600_000);
    assert.equal((await run(['gen', 'keypair', '--organization', 'pair', '--ip', '10.0.0.8'])).code, 0);
    assert.match(openssl('x509', '-in', 'pair.crt', '-noout', '-text'), /IP Address:10\.0\.0\.8/);
  });

  it('gen ca --rsa makes an RSA CA', async () => {
    assert.equal((await run(['gen', 'ca', '--organization', 'rsaca', '--rsa', '--hours', '24'])).code, 0);
    assert.ok(readFileSync('rsaca.key', 'utf8').startsWith('-----BEGIN RSA PRIVATE KEY-----'));
    assert.match(openssl('x509', '-in', 'rsaca.crt', '-noout', '-text'), /sha256WithRSAEncryption[\s\S]*Public-Key: \(4096 bit\)/);
  });

  it('gen commands report missing flags and bad input', async () => {
    assert.equal((await run(['gen', 'ca'])).stderr.split('\n')[0], 'error: required flag(s) "organization" not set');
    assert.equal((await run(['gen', 'key'])).stderr.split('\n')[0], 'error: required flag(s) "name" not set');
    assert.equal((await run(['gen', 'csr', '--key', 'client.key'])).stderr.split('\n')[0], 'error: required flag(s) "ip" not set');
    assert.equal((await run(['gen', 'csr', '--key', 'client.key', '--ip', 'nope', '-f'])).stderr, 'error: invalid IP: nope\n');
    assert.equal((await run(['gen', 'csr', '--key', 'client.key', '--ip', '10.0.0.1', '--roles', 'os:root', '-f'])).stderr, 'error: unknown roles: os:root\n');
    assert.equal((await run(['gen', 'crt', '--name', 'x', '--ca', 'missing', '--csr', 'client.csr'])).code, 1);
    assert.equal(existsSync('x.crt'), false);
  });

  it('gen secrets --from-controlplane-config recovers the bundle', async () => {
    const r = await run(['gen', 'secrets', '--from-controlplane-config', 'out/controlplane.yaml', '-o', 'again.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseSecrets(readFileSync('again.yaml', 'utf8')), parseSecrets(readFileSync('secrets.yaml', 'utf8')));
  });
});
