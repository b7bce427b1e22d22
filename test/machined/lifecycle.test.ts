import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SequenceEvent, SequenceEvent_Action } from '../../src/api/gen/machine/machine.js';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { which } from '../../src/machined/services/index.js';
import { freePort } from '../helpers/ports.js';
import { occurrences, waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.5.2';
// the node runs containerd where it is installed; the CRI instance also needs the configuration written for it
const expectContainerd = which('containerd') ? 'Running' : 'Skipped';
// the CRI instance also needs runc and root
const expectCRI = which('containerd') && which('runc') && process.getuid?.() === 0 ? 'Running' : 'Skipped';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A process node run as `bronze machined` (the program the provisioner starts), taken through Reboot, an apply with
 * a reboot, Reset back into maintenance and out of it again, and Shutdown: a reboot restarts the node's processes
 * (a new boot id, apid started again) while the program keeps running; shutdown ends it.
 */
describe('reboot, reset and shutdown of a process node', () => {
  let dir: string;
  let node: ChildProcess;
  let exited: Promise<number | null>;
  let client: Client;
  let apiPort: number;
  let config: string;
  const apidLog = () => join(dir, 'logs', 'apid.log');
  const machinedLog = () => join(dir, 'logs', 'machined.log');
  const apidStarts = (n: number) => waitForFile(dir, apidLog(), (t) => occurrences(t, 'apid serving') >= n, 60_000);
  const bootId = async () => {
    let text = '';
    for await (const d of client.machine.read({ path: '/proc/sys/kernel/random/boot_id' }, { timeout: 10_000 })) text += Buffer.from(d.bytes).toString();
    return text.trim();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-lifecycle-'));
    apiPort = await freePort(ADDRESS);
    const trustdPort = await freePort(ADDRESS);
    const bundle = await generateBundle({ clusterName: 'life', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    config = bundle.controlplane.toString();
    new ConfigStore(dir).write(Buffer.from(config));
    node = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'machined', '--state', dir, '--address', ADDRESS, '--api-port', String(apiPort), '--trustd-port', String(trustdPort)],
      { cwd: root, detached: true, stdio: 'ignore' },
    );
    exited = new Promise((r) => node.once('exit', (code) => r(code)));
    client = new Client(clientOptionsFromContext(bundle.talosconfig.contexts.life!, { endpoints: [`${ADDRESS}:${apiPort}`] }));
    await apidStarts(1);
  });

  after(async () => {
    client?.close();
    try {
      process.kill(-node.pid!, 'SIGKILL');
    } catch {
      // the node and its services are gone already
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reboots: the sequence runs under the call’s actor id, services start again, the boot id changes', { timeout: 90_000 }, async () => {
    const before = await bootId();
    assert.match(before, UUID);
    const ac = new AbortController();
    const seen: { actorId: string; sequence: string; action: number }[] = [];
    const stream = client.machine.events({ tailEvents: 0 }, { signal: ac.signal });
    const watching = (async () => {
      try {
        for await (const e of stream) if (e.data?.typeUrl.endsWith('machine.SequenceEvent')) seen.push({ actorId: e.actorId, ...SequenceEvent.decode(e.data.value) });
      } catch {
        // apid goes down with the reboot
      }
    })();
    const r = await client.machine.reboot({ mode: 0 }, { timeout: 10_000 });
    assert.equal(r.messages.length, 1);
    const actorId = r.messages[0]!.actorId;
    assert.match(actorId, UUID);
    await apidStarts(2);
    ac.abort();
    await watching;
    assert.ok(seen.some((e) => e.actorId === actorId && e.sequence === 'reboot' && e.action === SequenceEvent_Action.START), JSON.stringify(seen));
    const after = await bootId();
    assert.match(after, UUID);
    assert.notEqual(after, before);
    assert.equal(node.exitCode, null);
    const services = await client.machine.serviceList({}, { timeout: 10_000 });
    const states = Object.fromEntries(services.messages[0]!.services.map((s) => [s.id, s.state]));
    // the kubelet's image cannot be pulled here: it fails and is retried, which says nothing about the reboot
    assert.match(states.kubelet ?? '', /^(Preparing|Waiting|Failed|Skipped)$/);
    delete states.kubelet;
    // etcd waits for the CRI to be healthy (Waiting), then for bootstrap (Preparing): either, by the time it is asked
    assert.match(states.etcd ?? '', /^(Waiting|Preparing)$/);
    delete states.etcd;
    assert.deepEqual(states, { apid: 'Running', containerd: expectContainerd, cri: expectCRI, machined: 'Running', trustd: 'Running', udevd: 'Skipped' });
  });

  it('applies a config with a reboot: stored, then the node boots with it', { timeout: 90_000 }, async () => {
    const renamed = config.replace(/^auto: stable$/m, 'hostname: rebooted-1');
    assert.notEqual(renamed, config);
    const r = await client.machine.applyConfiguration({ data: Buffer.from(renamed), mode: 0 }, { timeout: 10_000 });
    assert.equal(r.messages[0]!.mode, 0);
    assert.equal(r.messages[0]!.modeDetails, 'Applied configuration with a reboot');
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), renamed);
    await apidStarts(3);
    assert.equal((await client.machine.hostname({}, { timeout: 10_000 })).messages[0]!.hostname, 'rebooted-1');
  });

  it('refuses a reset naming a volume the node does not have', async () => {
    await assert.rejects(client.machine.reset({ reboot: true, systemPartitionsToWipe: [{ label: 'BOGUS', wipe: true }] }, { timeout: 10_000 }), /failed to get volume status with label "BOGUS"/);
    assert.ok(existsSync(join(dir, 'config.yaml')));
  });

  it('resets with a reboot: the config is wiped, the node waits in maintenance until a config is applied', { timeout: 120_000 }, async () => {
    const r = await client.machine.reset({ reboot: true, graceful: false }, { timeout: 10_000 });
    assert.match(r.messages[0]!.actorId, UUID);
    await waitForFile(dir, machinedLog(), (t) => t.includes('waiting for one to be applied (maintenance)'), 60_000);
    assert.equal(existsSync(join(dir, 'config.yaml')), false);
    // in maintenance apid serves the maintenance API (no client certificate); the config it gets is stored and the
    // boot goes on
    await apidStarts(4);
    const insecure = new Client({ endpoints: [`${ADDRESS}:${apiPort}`], tls: { insecure: true } });
    const request = await insecure.cosi.get({ namespace: 'runtime', type: 'MaintenanceServiceRequests.runtime.talos.dev', id: 'maintenance' }, { timeout: 10_000 });
    assert.equal(request.resource!.metadata!.id, 'maintenance');
    const maint = await insecure.cosi.get({ namespace: 'runtime', type: 'MaintenanceServiceConfigs.runtime.talos.dev', id: 'maintenance' }, { timeout: 10_000 });
    assert.match(maint.resource!.spec!.yamlSpec, new RegExp(`^listenAddress: ${ADDRESS.replace(/\./g, '\\.')}:\\d+\\nreachableAddresses:\\n {4}- ${ADDRESS.replace(/\./g, '\\.')}\\n$`));
    const v = await insecure.machine.version({}, { timeout: 10_000 });
    assert.equal(v.messages[0]!.features, undefined);
    const applied = await insecure.machine.applyConfiguration({ data: Buffer.from(config), mode: 0 }, { timeout: 10_000 });
    insecure.close();
    assert.equal(applied.messages[0]!.mode, 2, 'REBOOT means NO_REBOOT in maintenance');
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), config);
    await apidStarts(5);
    assert.equal((await client.machine.version({}, { timeout: 10_000 })).messages[0]!.features?.rbac, true);
  });

  it('shuts down: the program ends and takes its services with it', { timeout: 60_000 }, async () => {
    const services = (await client.machine.serviceList({}, { timeout: 10_000 })).messages[0]!.services;
    const pids = services.flatMap((s) => {
      const m = /started with PID (\d+)/.exec(s.events!.events.map((e) => e.msg).join('\n'));
      return m ? [Number(m[1])] : [];
    });
    assert.ok(pids.length >= 2, 'apid and trustd (and containerd where it runs) run as processes; machined serves in its own');
    const r = await client.machine.shutdown({ force: false }, { timeout: 10_000 });
    assert.match(r.messages[0]!.actorId, UUID);
    assert.equal(await exited, 0);
    // the services were stopped (and reaped) before the program ended
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `service process ${pid} is still there`);
  });
});
