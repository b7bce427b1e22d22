import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { SecurityServiceClient } from '../../src/api/gen/security/security.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { Client } from '../../src/client/client.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { stableHostname } from '../../src/controllers/network/hostname-config.js';
import { parse as parseYAML } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { type RunningMachined, startMachined } from '../../src/machined/main.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.3.2';


/**
 * A whole node on the process platform: machined with a generated control plane config, its controllers issuing
 * apid's certificates, apid started by the supervisor as a separate process, and the API answering over mTLS with
 * the talosconfig `gen config` wrote.
 */
describe('a process node', () => {
  let dir: string;
  let node: RunningMachined;
  let client: Client;
  let trustdPort: number;
  let token: string;
  let caPEM: string;
  const ac = new AbortController();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-node-'));
    const port = await freePort(ADDRESS);
    trustdPort = await freePort(ADDRESS);
    const bundle = await generateBundle({ clusterName: 'demo', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    new ConfigStore(dir).write(Buffer.from(bundle.controlplane.toString()));
    token = bundle.controlplane.v1alpha1!.machine!.token as string;
    caPEM = Buffer.from((bundle.controlplane.v1alpha1!.machine!.ca as { crt: string }).crt, 'base64').toString();
    node = await startMachined({
      stateDir: dir,
      address: ADDRESS,
      apiPort: port,
      apidCommand: [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'apid'],
      trustdCommand: [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'trustd'],
      trustdPort,
      signal: ac.signal,
    });
    const ctx = bundle.talosconfig.contexts.demo!;
    client = new Client(clientOptionsFromContext(ctx, { endpoints: [`${ADDRESS}:${port}`] }));
    await node.waitForLog('apid', 'apid serving', 30_000);
    await node.waitForLog('trustd', 'trustd serving', 30_000);
  });

  after(async () => {
    client?.close();
    ac.abort();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers Version over mTLS through apid, with the config loaded', async () => {
    const v = await client.machine.version({}, { timeout: 10_000 });
    assert.equal(v.messages.length, 1);
    assert.deepEqual(v.messages[0]!.platform, { name: 'process', mode: 'container' });
    assert.equal(v.messages[0]!.features?.rbac, true);
  });

  it('serves the node hostname and its resources', async () => {
    const stable = stableHostname((parseYAML(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId);
    assert.equal((await client.machine.hostname({}, { timeout: 10_000 })).messages[0]!.hostname, stable);
    const r = await client.cosi.get({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { metadata: {}, timeout: 10_000 });
    assert.equal(r.resource!.spec!.yamlSpec, `hostname: ${stable}\ndomainname: ""\n`);
    const mt = await client.cosi.get({ namespace: 'config', type: 'MachineTypes.config.talos.dev', id: 'machine-type' }, { timeout: 10_000 });
    assert.equal(mt.resource!.spec!.yamlSpec, 'controlplane\n');
  });

  it('lists apid among its services, running, and refuses to restart it over the API', async () => {
    const s = await client.machine.serviceList({}, { timeout: 10_000 });
    const apid = s.messages[0]!.services.find((x) => x.id === 'apid');
    assert.equal(apid?.state, 'Running');
    assert.ok(apid!.events!.events.some((e) => /Process .* started with PID \d+/.test(e.msg)));
    await assert.rejects(client.machine.serviceRestart({ id: 'apid' }, { timeout: 10_000 }), /doesn't support restart operation via API/);
  });

  it('runs trustd, which signs server certificates for token holders', async () => {
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'w.key')]);
    execFileSync('openssl', ['req', '-new', '-key', join(dir, 'w.key'), '-subj', '/CN=worker-1', '-addext', 'subjectAltName=IP:127.77.3.3', '-out', join(dir, 'w.csr')]);
    const sec = new SecurityServiceClient(`${ADDRESS}:${trustdPort}`, credentials.createSsl(Buffer.from(caPEM)));
    try {
      const md = new Metadata();
      md.set('token', token);
      const res = await new Promise<{ ca: Uint8Array; crt: Uint8Array }>((resolve, reject) =>
        sec.certificate({ csr: readFileSync(join(dir, 'w.csr')) }, md, (e, r) => (e ? reject(e) : resolve(r))),
      );
      writeFileSync(join(dir, 'w.crt'), res.crt);
      writeFileSync(join(dir, 'ca.crt'), caPEM);
      execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'w.crt')]);
      assert.equal(Buffer.from(res.ca).toString(), caPEM);
    } finally {
      sec.close();
    }
  });

  it('applies configs: now, dry run, staged, try with rollback; refuses invalid ones naming the path', async () => {
    const current = readFileSync(join(dir, 'config.yaml'), 'utf8');
    const renamed = current.replace(/^auto: stable$/m, 'hostname: applied-1');
    assert.notEqual(renamed, current);
    const dry = await client.machine.applyConfiguration({ data: Buffer.from(renamed), mode: 2, dryRun: true }, { timeout: 10_000 });
    assert.match(dry.messages[0]!.modeDetails, /^Dry run summary:\nApplied configuration without a reboot \(skipped in dry-run\)\.\n/);
    assert.match(dry.messages[0]!.modeDetails, /^-auto: stable\n\+hostname: applied-1$/m);
    const hostname = async () => (await client.machine.hostname({}, { timeout: 10_000 })).messages[0]!.hostname;
    assert.equal(await hostname(), stableHostname((parseYAML(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId));
    const now = await client.machine.applyConfiguration({ data: Buffer.from(renamed), mode: 1 }, { timeout: 10_000 });
    assert.equal(now.messages[0]!.mode, 2);
    assert.equal(now.messages[0]!.modeDetails, 'Applied configuration without a reboot');
    await node.state.watchFor({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, (r) => (r?.spec as { hostname?: string } | undefined)?.hostname === 'applied-1');
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), renamed);
    // staged: stored for the next boot, the running config is unchanged
    const staged = renamed.replace('applied-1', 'staged-1');
    assert.equal((await client.machine.applyConfiguration({ data: Buffer.from(staged), mode: 3 }, { timeout: 10_000 })).messages[0]!.modeDetails, 'Staged configuration to be applied after the next reboot');
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), staged);
    assert.equal(await hostname(), 'applied-1');
    // try: applied now, reverted after the timeout
    const tried = renamed.replace('applied-1', 'tried-1');
    const t = await client.machine.applyConfiguration({ data: Buffer.from(tried), mode: 4, tryModeTimeout: { seconds: '1', nanos: 0 } }, { timeout: 10_000 });
    assert.match(t.messages[0]!.modeDetails, /reverted back in 1s$/);
    await node.state.watchFor({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, (r) => (r?.spec as { hostname?: string } | undefined)?.hostname === 'tried-1');
    await node.state.watchFor({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, (r) => (r?.spec as { hostname?: string } | undefined)?.hostname === 'applied-1');
    await assert.rejects(client.machine.applyConfiguration({ data: Buffer.from('version: v1alpha1\nmachine:\n  typo: 1\n'), mode: 2 }, { timeout: 10_000 }), /InvalidArgument.*machine\.typo/);
    const rebootDry = await client.machine.applyConfiguration({ data: Buffer.from(renamed), mode: 0, dryRun: true }, { timeout: 10_000 });
    assert.equal(rebootDry.messages[0]!.mode, 0);
    assert.match(rebootDry.messages[0]!.modeDetails, /^Dry run summary:\nApplied configuration with a reboot \(skipped in dry-run\)\.\nNo changes\.$/);
  });

  it('reports its machine status: running, and what keeps it from being ready', async () => {
    await node.booted;
    const ptr = { namespace: 'runtime', type: 'MachineStatuses.runtime.talos.dev', id: 'machine' };
    const ms = (await node.state.watchFor(ptr, (r) => (r?.spec as { stage?: string } | undefined)?.stage === 'running'))!.spec as { status: { ready: boolean; unmetConditions: { name: string; reason: string }[] } };
    assert.equal(ms.status.ready, false);
    // no kubelet or etcd on this node yet; apid, machined and trustd run
    assert.deepEqual(ms.status.unmetConditions.find((c) => c.name === 'services'), { name: 'services', reason: 'kubelet not running, etcd not running' });
    const r = await client.cosi.get(ptr, { timeout: 10_000 });
    assert.match(r.resource!.spec!.yamlSpec, /^stage: running\nstatus:\n {4}ready: false\n {4}unmetConditions:\n/);
    // its /etc/hosts is written; connectivity is the host's (a default route, where the host has one)
    const network = ms.status.unmetConditions.find((c) => c.name === 'network');
    assert.ok(network === undefined || network.reason === 'waiting on: connectivity', JSON.stringify(network));
    assert.match(readFileSync(join(dir, 'system', 'etc', 'hosts'), 'utf8'), /^127\.0\.0\.1 +localhost\n127\.77\.3\.2 +applied-1\n/);
    // the links it reports are the kernel's
    const lo = await client.cosi.get({ namespace: 'network', type: 'LinkStatuses.net.talos.dev', id: 'lo' }, { timeout: 10_000 });
    assert.match(lo.resource!.spec!.yamlSpec, /^index: 1\ntype: loopback\n/);
    // the clock is the host's: sync is disabled, the time counts as synced
    const time = await client.cosi.get({ namespace: 'runtime', type: 'TimeStatuses.v1alpha1.talos.dev', id: 'node' }, { timeout: 10_000 });
    assert.equal(time.resource!.spec!.yamlSpec, 'synced: true\nepoch: 0\nsyncDisabled: true\n');
    const servers = await client.cosi.get({ namespace: 'network', type: 'TimeServerStatuses.net.talos.dev', id: 'timeservers' }, { timeout: 10_000 });
    assert.equal(servers.resource!.spec!.yamlSpec, 'timeServers:\n    - time.cloudflare.com\n');
    const svc = await client.cosi.get({ namespace: 'runtime', type: 'Services.v1alpha1.talos.dev', id: 'apid' }, { timeout: 10_000 });
    assert.equal(svc.resource!.spec!.yamlSpec, 'running: true\nhealthy: false\nunknown: true\n');
  });

  it('keeps its API socket in its state directory', () => {
    assert.ok(existsSync(join(dir, 'machined', 'machine.sock')));
    assert.ok(existsSync(join(dir, 'apid', 'runtime.sock')));
  });
});
