import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { connect } from 'node:tls';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { quietIPServerNameWarning } from '../../src/client/index.js';
import { loadTalosconfig } from '../../src/client/talosconfig.js';
import { decodePEMField } from '../../src/client/tls.js';
import { type ClusterInfo, readCluster } from '../../src/provision/process.js';
import { clusterProcesses, destroyQemuCluster, running } from '../../src/provision/qemu.js';
import { bronzectl, type CLIResult } from '../helpers/bronzectl.js';
import { out, serialTail, unavailable, untilAnswer } from './helpers/vm.js';

quietIPServerNameWarning();

/** From `cluster create` to every node answering: two VMs share the machine's cores under TCG. */
const CREATE_DEADLINE_MS = 12 * 60_000;
/** Each step after that. */
const STEP_MS = 120_000;

/** The certificate a TLS server presents at `endpoint` (host:port), not verified here. */
function peerCertificate(endpoint: string): Promise<X509Certificate> {
  const [host, port] = [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] }, () => {
      const c = s.getPeerX509Certificate();
      s.destroy();
      if (c) resolve(c);
      else reject(new Error(`no certificate from ${endpoint}`));
    });
    s.setTimeout(10_000, () => s.destroy(new Error(`no TLS handshake with ${endpoint} in 10 s`)));
    s.once('error', reject);
  });
}

/** Every guest's console tail, for a failure message. */
function consoles(info: ClusterInfo | undefined): string {
  if (!info) return '(no cluster record)';
  return info.nodes.map((n) => `--- console of ${n.name} (${n.console}) ---\n${serialTail(n.console ?? '')}`).join('\n');
}

/**
 * `cluster destroy`, then checks that no VM of the cluster runs (recorded pids, and any QEMU or config server with the
 * cluster's directory in its arguments) and its state is gone. A cluster that create already removed is fine.
 */
async function destroyAndCheck(ctl: (args: string[]) => Promise<CLIResult>, state: string, name: string): Promise<void> {
  const clusterDir = join(state, name);
  if (!existsSync(join(clusterDir, 'cluster.json'))) {
    assert.deepEqual(clusterProcesses(clusterDir), [], 'no QEMU or config server runs after a failed create');
    return;
  }
  const pids = readCluster(state, name).nodes.map((n) => n.pid);
  const destroyed = await ctl(['cluster', 'destroy', '--name', name, '--state', state]);
  // whatever the command did, nothing may stay behind
  if (existsSync(clusterDir)) await destroyQemuCluster(state, name).catch(() => undefined);
  assert.equal(destroyed.code, 0, `cluster destroy failed: ${destroyed.stderr}`);
  assert.deepEqual(
    pids.filter((p) => running(p)),
    [],
    'no VM runs after cluster destroy',
  );
  assert.deepEqual(clusterProcesses(clusterDir), [], 'no QEMU or config server of the cluster runs after cluster destroy');
  assert.equal(existsSync(clusterDir), false, 'the cluster state is removed');
}

describe('cluster create --provisioner qemu', () => {
  it(
    'two VMs (a control plane, a worker) on a private network: version fans out to both through the control plane, the worker holds a trustd-signed certificate, destroy leaves no QEMU behind',
    { skip: unavailable('amd64', 'kernel'), timeout: CREATE_DEADLINE_MS + 4 * STEP_MS },
    async (t: TestContext) => {
      const work = mkdtempSync(join(tmpdir(), 'bronze-e2e-qemu-'));
      const state = join(work, 'state');
      const talosconfig = join(work, 'talosconfig');
      const name = `e2e-qemu-${process.pid}`;
      const clusterDir = join(state, name);
      const env = { HOME: work };
      const ctl = (args: string[]): Promise<CLIResult> => bronzectl(['--talosconfig', talosconfig, ...args], env);
      let info: ClusterInfo | undefined;
      let failure: Error | undefined;
      try {
        const started = Date.now();
        const created = await ctl([
          'cluster',
          'create',
          '--provisioner',
          'qemu',
          '--name',
          name,
          '--state',
          state,
          '--controlplanes',
          '1',
          '--workers',
          '1',
          '--vmlinuz-path',
          join(out, 'vmlinuz-amd64'),
          '--initrd-path',
          join(out, 'initramfs-amd64.xz'),
          '--arch',
          'amd64',
          '--wait-timeout',
          `${CREATE_DEADLINE_MS / 1000}s`,
        ]);
        assert.equal(created.code, 0, `cluster create failed:\n${created.stderr}`);
        t.diagnostic(`cluster create to both nodes answering: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        info = readCluster(state, name);
        const [cp, worker] = info.nodes;
        assert.ok(cp && worker && info.nodes.length === 2);
        assert.deepEqual(
          info.nodes.map((n) => [n.name, n.type, n.address]),
          [
            [`${name}-controlplane-1`, 'controlplane', '10.5.0.2'],
            [`${name}-worker-1`, 'worker', '10.5.0.3'],
          ],
        );
        // the VMs outlive the command that made them
        for (const n of info.nodes) assert.ok(running(n.pid), `${n.name} (pid ${n.pid}) runs after cluster create returned`);

        // the talosconfig context: the control plane's forwarded port as endpoint, the private addresses as nodes
        const tc = await loadTalosconfig(talosconfig);
        const ctx = tc.contexts[tc.context]!;
        assert.equal(tc.context, name);
        assert.deepEqual(ctx.endpoints, [cp.apiEndpoint]);
        assert.deepEqual(ctx.nodes, ['10.5.0.2', '10.5.0.3']);

        // cluster show lists the VMs
        const show = await ctl(['cluster', 'show', '--name', name, '--state', state]);
        assert.equal(show.code, 0, show.stderr);
        assert.match(show.stdout, /PROVISIONER\s+qemu/);
        for (const n of info.nodes) assert.match(show.stdout, new RegExp(`${n.name}\\s+${n.type}\\s+${n.address.replaceAll('.', '\\.')}\\s+${n.apiEndpoint}\\s+.*\\s${n.pid}\\s+running`));

        // one Version message per node, fanned out by the control plane's apid over the private network
        const client = new Client(clientOptionsFromContext(ctx));
        try {
          const res = await untilAnswer({ serial: cp.console! }, () => client.machine.version({}, { nodes: [cp.address, worker.address], timeout: 30_000 }), Date.now() + STEP_MS, 'no fan-out Version');
          assert.deepEqual(
            res.messages.map((m) => [m.metadata?.hostname, m.metadata?.error ?? '']).sort(),
            [
              ['10.5.0.2', ''],
              ['10.5.0.3', ''],
            ],
          );
        } finally {
          client.close();
        }
        const version = await ctl(['-n', `${cp.address},${worker.address}`, 'version']);
        assert.equal(version.code, 0, version.stderr);
        assert.deepEqual([...version.stdout.matchAll(/NODE:\s+(\S+)/g)].map((m) => m[1]).sort(), ['10.5.0.2', '10.5.0.3']);
        const hostnames = await ctl(['-n', `${cp.address},${worker.address}`, 'get', 'hostname']);
        assert.equal(hostnames.code, 0, hostnames.stderr);
        assert.match(hostnames.stdout, new RegExp(`10\\.5\\.0\\.2\\s+network\\s+HostnameStatus\\s+hostname\\s+\\d+\\s+${cp.name}\\s`));
        assert.match(hostnames.stdout, new RegExp(`10\\.5\\.0\\.3\\s+network\\s+HostnameStatus\\s+hostname\\s+\\d+\\s+${worker.name}\\s`));

        // the worker joined through trustd: its apid serves a certificate of the cluster's CA for its private address,
        // and the control plane's trustd logged signing it for a caller on the private network
        const ca = new X509Certificate(decodePEMField(ctx.ca!, 'ca'));
        const cert = await peerCertificate(worker.apiEndpoint!);
        assert.ok(cert.verify(ca.publicKey), 'the worker certificate is signed by the cluster CA');
        assert.equal(cert.subject, `CN=${worker.name}`);
        assert.ok(cert.subjectAltName?.split(', ').includes('IP Address:10.5.0.3'), cert.subjectAltName);
        assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'trustd signs server certificates only');
        const signed = await untilAnswer(
          { serial: cp.console! },
          async () => {
            const r = await ctl(['-n', cp.address, 'logs', 'trustd']);
            if (r.code !== 0) throw new Error(r.stderr.trim());
            const line = r.stdout.split('\n').find((l) => l.includes('signed a server certificate') && l.includes(`CN=${worker.name}`));
            if (!line) throw new Error(`no signing of CN=${worker.name} in trustd's log:\n${r.stdout.slice(-2000)}`);
            return line;
          },
          Date.now() + STEP_MS,
          "trustd's log shows no certificate for the worker",
        );
        assert.match(signed, /"peer":"(::ffff:)?10\.5\.0\.3:\d+"/);

        // cluster discovery through the cluster's own discovery service on the host: each node lists both as members
        assert.ok(info.discovery, 'the cluster runs its discovery service');
        for (const n of info.nodes) {
          const members = await untilAnswer(
            { serial: n.console! },
            async () => {
              const r = await ctl(['-n', n.address, 'get', 'members', '-o', 'json']);
              if (r.code !== 0) throw new Error(r.stderr.trim());
              const docs = r.stdout.trim().split(/\n(?=\{)/).map((d) => JSON.parse(d) as { spec: { hostname: string; machineType: string; addresses: string[] } });
              if (docs.length < 2) throw new Error(`${n.name} lists ${docs.length} members`);
              return docs.map((d) => [d.spec.hostname, d.spec.machineType, d.spec.addresses.includes(n === cp ? worker.address : cp.address) || d.spec.addresses.includes(n.address)]).sort();
            },
            Date.now() + STEP_MS,
            `${n.name} does not list both nodes as members`,
          );
          assert.deepEqual(members, [
            [cp.name, 'controlplane', true],
            [worker.name, 'worker', true],
          ]);
        }
      } catch (e) {
        failure = new Error(`${(e as Error).message}\n${consoles(info ?? (existsSync(join(clusterDir, 'cluster.json')) ? readCluster(state, name) : undefined))}`, { cause: e });
      }
      // always: destroy the cluster (as a user would) and check that nothing of it runs on
      const cleanup = await destroyAndCheck(ctl, state, name).catch((e: unknown) => e as Error);
      rmSync(work, { recursive: true, force: true });
      if (failure) throw cleanup ? new Error(`${failure.message}\n(cleaning up: ${cleanup.message})`, { cause: failure }) : failure;
      if (cleanup) throw cleanup;
    },
  );
});
