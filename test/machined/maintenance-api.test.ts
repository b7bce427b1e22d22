import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ApplyConfigurationRequest_Mode as Mode } from '../../src/api/gen/machine/machine.js';
import { loadConfig } from '../../src/config/loader.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { freePort } from '../helpers/ports.js';
import { killProcessesMentioning, processesEnded } from '../helpers/procs.js';
import { waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.14.2';
const MiB = 1024 * 1024;

const rpcCode = (code: status, message?: RegExp) => (e: unknown) => e instanceof RpcError && e.grpcCode === code && (!message || message.test(e.message));

/** The certificate a TLS server presents at `host:port`, without verifying it. */
function peerCertificate(host: string, port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const c = s.getPeerCertificate();
      s.destroy();
      resolve(c);
    });
    s.once('error', reject);
  });
}

/**
 * A process node started without a config waits in maintenance, and apid serves the maintenance API on the node's
 * address: a certificate from a throwaway CA, no client certificate asked for, every caller a reader, no routing,
 * and ApplyConfiguration as the way out (talosctl's `apply-config --insecure`). Once the config is in, apid serves
 * with client certificates again.
 */
describe('the maintenance API through apid', () => {
  let dir: string;
  let node: ChildProcess;
  let apiPort: number;
  let insecure: Client;
  const apidLog = () => join(dir, 'logs', 'apid.log');
  const serving = (maintenance: boolean) => waitForFile(dir, apidLog(), (t) => t.split('\n').some((l) => l.includes('"apid serving"') && l.includes(`"maintenance":${maintenance}`)), 60_000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-maintenance-'));
    apiPort = await freePort(ADDRESS);
    const trustdPort = await freePort(ADDRESS);
    node = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'machined', '--state', dir, '--address', ADDRESS, '--api-port', String(apiPort), '--trustd-port', String(trustdPort)],
      { cwd: root, detached: true, stdio: 'ignore' },
    );
    insecure = new Client({ endpoints: [`${ADDRESS}:${apiPort}`], tls: { insecure: true } });
    await serving(true);
  });

  after(async () => {
    insecure?.close();
    try {
      process.kill(-node.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    // the services the config started end by their lifeline a moment after machined, writing into the directory
    // until then
    await processesEnded(dir, 10_000);
    killProcessesMentioning(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a certificate from the maintenance CA, made for the node’s addresses', async () => {
    const cert = await peerCertificate(ADDRESS, apiPort);
    assert.equal(cert.subject.CN, 'maintenance-service.talos.dev');
    assert.equal(cert.issuer.CN, 'maintenance-root');
    const sans = (cert.subjectaltname ?? '').split(', ');
    assert.ok(sans.includes(`IP Address:${ADDRESS}`), cert.subjectaltname);
    assert.ok(sans.includes('IP Address:127.0.0.1'), cert.subjectaltname);
  });

  it('answers reader calls without a client certificate; Version has no features', async () => {
    const v = await insecure.machine.version({}, { timeout: 10_000 });
    assert.equal(v.messages.length, 1);
    assert.match(v.messages[0]!.version!.tag, /^v\d+\.\d+\.\d+/);
    assert.equal(v.messages[0]!.features, undefined);
    const list = (await insecure.machine.serviceList({}, { timeout: 10_000 })).messages[0]!.services;
    const services = list.map((s) => s.id).sort();
    assert.ok(services.includes('apid') && services.includes('machined'), services.join());
    // apid runs as its own unprivileged user (uid 50) when machined is root
    const apidPid = Number(/started with PID (\d+)/.exec(list.find((s) => s.id === 'apid')!.events!.events.map((e) => e.msg).join('\n'))![1]);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${apidPid}/status`, 'utf8'))![1]);
    assert.equal(uid, process.getuid!() === 0 ? 50 : process.getuid!());
    const request = await insecure.cosi.get({ namespace: 'runtime', type: 'MaintenanceServiceRequests.runtime.talos.dev', id: 'maintenance' }, { timeout: 10_000 });
    assert.equal(request.resource!.metadata!.id, 'maintenance');
  });

  it('refuses what a reader may not do, and sensitive resources', async () => {
    await assert.rejects(insecure.machine.reboot({ mode: 0 }, { timeout: 10_000 }), rpcCode(status.PERMISSION_DENIED, /not authorized/));
    await assert.rejects(insecure.machine.reset({ reboot: true }, { timeout: 10_000 }), rpcCode(status.PERMISSION_DENIED, /not authorized/));
    await assert.rejects(insecure.cosi.get({ namespace: 'secrets', type: 'ApiCertificates.secrets.talos.dev', id: 'api' }, { timeout: 10_000 }), rpcCode(status.PERMISSION_DENIED, /not authorized/));
  });

  it('answers every call itself, whatever node it names (no routing)', async () => {
    // 127.77.14.3 runs nothing: a forwarded call would fail
    const v = await insecure.machine.hostname({}, { timeout: 10_000, nodes: ['127.77.14.3'] });
    assert.equal(v.messages.length, 1);
    assert.equal(v.messages[0]!.metadata?.hostname ?? '', '');
    // the node's own answer (without a config it has no hostname yet, as Talos's has none)
    const own = await insecure.machine.hostname({}, { timeout: 10_000 });
    assert.equal(v.messages[0]!.hostname, own.messages[0]!.hostname);
  });

  it('takes 30 MiB messages (machined judges the config) and refuses 33 MiB with ResourceExhausted', { timeout: 60_000 }, async () => {
    await assert.rejects(
      insecure.machine.applyConfiguration({ data: Buffer.alloc(30 * MiB, 0x20), mode: Mode.NO_REBOOT }, { timeout: 30_000 }),
      (e: unknown) => e instanceof RpcError && e.grpcCode === status.INVALID_ARGUMENT,
    );
    await assert.rejects(insecure.machine.applyConfiguration({ data: Buffer.alloc(33 * MiB, 0x20), mode: Mode.NO_REBOOT }, { timeout: 30_000 }), rpcCode(status.RESOURCE_EXHAUSTED));
    assert.equal(existsSync(join(dir, 'config.yaml')), false);
  });

  it('takes a config with ApplyConfiguration, then serves with client certificates', { timeout: 120_000 }, async () => {
    const bundle = await generateBundle({ clusterName: 'maint', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    const config = bundle.controlplane.toString();
    // as talosctl's users do it: apply-config --insecure, here with a patch applied on the client's side
    writeFileSync(join(dir, 'controlplane.yaml'), config);
    const r = await bronzectl(['apply-config', '--insecure', '-n', `${ADDRESS}:${apiPort}`, '-f', join(dir, 'controlplane.yaml'), '-p', 'machine:\n  sysctls:\n    net.core.somaxconn: "65535"', '--mode', 'reboot']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Applied configuration without a reboot\n$/, 'REBOOT means NO_REBOOT in maintenance');
    const stored = readFileSync(join(dir, 'config.yaml'), 'utf8');
    assert.match(stored, /net\.core\.somaxconn: "65535"/);
    assert.equal(loadConfig(stored).documents.length, loadConfig(config).documents.length);
    await serving(false);
    const secure = new Client(clientOptionsFromContext(bundle.talosconfig.contexts.maint!, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    try {
      assert.equal((await secure.machine.version({}, { timeout: 10_000 })).messages[0]!.features?.rbac, true);
      // without a client certificate the handshake is refused now
      await assert.rejects(insecure.machine.version({}, { timeout: 10_000 }), rpcCode(status.UNAVAILABLE));
      const cert = await peerCertificate(ADDRESS, apiPort);
      assert.notEqual(cert.subject.CN, 'maintenance-service.talos.dev');
    } finally {
      secure.close();
    }
  });
});
