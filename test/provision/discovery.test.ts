import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYAML } from 'yaml';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { loadTalosconfig, serializeTalosconfig, type TalosconfigContext } from '../../src/client/talosconfig.js';
import { bronzeCommand } from '../../src/cli/commands/cluster.js';
import { type ClusterInfo, createCluster, destroyCluster } from '../../src/provision/process.js';
import { HEALTH_SKIP_METADATA_KEY } from '../../src/cli/commands/health.js';
import { bronzectl as runBronzectl } from '../helpers/bronzectl.js';
import { SERVER_HEALTH_OK_LINES } from '../helpers/health-lines.js';
import { listening } from '../helpers/ports.js';


// short: containerd's sockets live under the state directory, and a unix socket path has at most 104 bytes
let dir: string;
const CIDR = '127.79.12.0/24';
const CP = '127.79.12.2';
const WORKERS = ['127.79.12.3', '127.79.12.4'];

interface Member {
  nodeId: string;
  addresses: string[];
  hostname: string;
  machineType: string;
  operatingSystem: string;
  controlPlane?: { port: number };
}

/**
 * Cluster discovery on a process cluster (one control plane, two workers): the cluster's own discovery service, every
 * node's Members, `health` with no node named (server and client side), and nothing left after destroy.
 */
describe('cluster discovery on a process cluster', () => {
  let info: ClusterInfo;
  let ctx: TalosconfigContext;
  let client: Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bdisc-'));
    info = await createCluster({
      name: 'disc',
      stateDir: join(dir, 'c'),
      cidr: CIDR,
      controlplanes: 1,
      workers: 2,
      talosconfig: join(dir, 'talosconfig'),
      bronzeCommand: bronzeCommand(),
      waitTimeoutMs: 120_000,
    });
    const tc = await loadTalosconfig(join(dir, 'talosconfig'));
    ctx = tc.contexts.disc!;
    client = new Client(clientOptionsFromContext(ctx, { endpoints: [CP] }));
    // health waits for etcd: the control plane is bootstrapped once, for the health tests
    await client.machine.bootstrap({ recoverEtcd: false, recoverSkipHashCheck: false }, { node: CP });
  });

  after(async () => {
    client?.close();
    if (info) await destroyCluster(join(dir, 'c'), 'disc').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** Watches a node's Members until all three nodes are there; returns them by address. */
  async function members(node: string): Promise<Map<string, Member>> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 60_000);
    const seen = new Map<string, Member>();
    try {
      for await (const m of client.cosi.watch({ namespace: 'cluster', type: 'Members.cluster.talos.dev', apiVersion: 1, options: { bootstrapContents: true } }, { node, signal: ac.signal })) {
        for (const e of m.event) {
          const spec = e.resource?.spec?.yamlSpec ? (parseYAML(e.resource.spec.yamlSpec) as Member) : undefined;
          if (!spec) continue;
          if (e.eventType === 2) seen.delete(spec.addresses[0]!);
          else seen.set(spec.addresses[0]!, spec);
        }
        if (seen.size === 3) return seen;
      }
    } catch (e) {
      if (ac.signal.aborted) throw new Error(`${node} did not list 3 members within 60 s: it has ${[...seen.keys()].join(', ')}`);
      throw e;
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    throw new Error(`the watch of ${node}'s members ended with ${seen.size}`);
  }

  it('runs one discovery service for the cluster, on the range\'s .1 address, and the configs name it', async () => {
    assert.equal(info.discovery?.listen, '127.79.12.1:3000');
    assert.equal(await listening('127.79.12.1', 3000), true);
    const dc = await client.cosi.get({ namespace: 'config', type: 'DiscoveryConfigs.cluster.talos.dev', id: 'cluster' }, { node: WORKERS[0] });
    const spec = parseYAML(dc.resource!.spec!.yamlSpec) as Record<string, unknown>;
    assert.equal(spec.discoveryEnabled, true);
    assert.equal(spec.registryServiceEnabled, true);
    assert.equal(spec.serviceEndpoint, '127.79.12.1:3000');
    assert.equal(spec.serviceEndpointInsecure, true);
    assert.equal(Buffer.from(String(spec.serviceEncryptionKey), 'base64').length, 32);
  });

  it('every node lists the three nodes as members, with their machine types, addresses and hostnames', { timeout: 120_000 }, async () => {
    const hostnames = new Map<string, string>();
    for (const node of [CP, ...WORKERS]) {
      const h = await client.cosi.get({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { node });
      hostnames.set(node, String((parseYAML(h.resource!.spec!.yamlSpec) as { hostname: string }).hostname));
    }
    for (const node of [CP, ...WORKERS]) {
      const m = await members(node);
      assert.deepEqual([...m.keys()].sort(), [CP, ...WORKERS]);
      assert.equal(m.get(CP)!.machineType, 'controlplane');
      assert.deepEqual(m.get(CP)!.controlPlane, { port: 6443 });
      for (const w of WORKERS) {
        assert.equal(m.get(w)!.machineType, 'worker');
        assert.equal(m.get(w)!.controlPlane, undefined);
      }
      for (const [addr, member] of m) {
        assert.equal(member.hostname, hostnames.get(addr));
        assert.match(member.operatingSystem, /^Bronze \(v\d+\.\d+\.\d+/);
        assert.match(member.nodeId, /^[0-9A-Za-z]{40,}$/);
      }
    }
    // the node's own identity is its member's node id
    const id = await client.cosi.get({ namespace: 'cluster', type: 'Identities.cluster.talos.dev', id: 'local' }, { node: WORKERS[1] });
    const own = (parseYAML(id.resource!.spec!.yamlSpec) as { nodeId: string }).nodeId;
    assert.equal((await members(CP)).get(WORKERS[1]!)!.nodeId, own);
  });

  it('HealthCheck without nodes checks the discovered ones (as talosctl health sends it)', { timeout: 120_000 }, async () => {
    await members(CP);
    const lines: string[] = [];
    // the kubelet's image cannot be pulled here: its check is left out, as `bronzectl health --skip kubelet` asks
    const opts = { node: CP, metadata: { [HEALTH_SKIP_METADATA_KEY]: 'kubelet' } };
    const req = { waitTimeout: { seconds: '90', nanos: 0 }, clusterInfo: { controlPlaneNodes: [], workerNodes: [], forceEndpoint: '' } };
    try {
      for await (const m of client.cluster.healthCheck(req, opts)) lines.push(m.message);
    } catch (e) {
      throw new Error(`health failed after:\n${lines.join('\n')}`, { cause: e });
    }
    // the members in their order (by nodename), each by its address
    assert.match(lines[0]!, /^discovered nodes: \["127\.79\.12\.\d" "127\.79\.12\.\d" "127\.79\.12\.\d"\]$/);
    assert.deepEqual(lines[0]!.match(/127\.79\.12\.\d/g)!.sort(), [CP, ...WORKERS]);
    assert.ok(lines[0]!.startsWith(`discovered nodes: ["${CP}"`), 'control planes first');
    assert.deepEqual(lines.filter((l) => l.endsWith(': OK')), SERVER_HEALTH_OK_LINES);
  });

  it('bronzectl health with a context that names no nodes finds them by discovery, on the server and in the client', { timeout: 180_000 }, async () => {
    await members(CP);
    const path = join(dir, 'talosconfig-no-nodes');
    writeFileSync(path, serializeTalosconfig({ context: 'disc', contexts: { disc: { ...ctx, endpoints: [CP], nodes: [] } } }));
    const env = { HOME: dir, TALOSCONFIG: path };
    const server = await runBronzectl(['health', '--wait-timeout', '90s', '--skip', 'kubelet'], env);
    assert.equal(server.code, 0, server.stderr);
    assert.match(server.stderr, new RegExp(`discovered nodes: \\["${CP.replace(/\./g, '\\.')}" `));
    const local = await runBronzectl(['health', '--server=false', '--wait-timeout', '90s', '--skip', 'kubelet'], env);
    assert.equal(local.code, 0, local.stderr);
    const found = /discovered nodes: control plane: (\S+); worker: (.*)\n/.exec(local.stderr);
    assert.ok(found, local.stderr);
    assert.equal(found[1], CP);
    assert.deepEqual(found[2]!.split(', ').sort(), WORKERS);
  });

  it('a node that is reset leaves the discovery service at once: the others stop listing it (not after the TTL)', { timeout: 120_000 }, async () => {
    const gone = WORKERS[1]!;
    // every node lists the three first
    await members(CP);
    const r = await client.machine.reset({ graceful: false, reboot: false }, { node: gone, timeout: 30_000 });
    assert.equal(r.messages.length, 1);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 60_000);
    const seen = new Map<string, Member>();
    let bootstrapped = false;
    try {
      for await (const m of client.cosi.watch({ namespace: 'cluster', type: 'Members.cluster.talos.dev', apiVersion: 1, options: { bootstrapContents: true } }, { node: CP, signal: ac.signal })) {
        for (const e of m.event) {
          if (e.eventType === 3) bootstrapped = true;
          const spec = e.resource?.spec?.yamlSpec ? (parseYAML(e.resource.spec.yamlSpec) as Member) : undefined;
          if (!spec) continue;
          if (e.eventType === 2) seen.delete(spec.addresses[0]!);
          else seen.set(spec.addresses[0]!, spec);
        }
        if (bootstrapped && !seen.has(gone)) break;
      }
    } catch (e) {
      if (ac.signal.aborted) throw new Error(`${CP} still lists ${gone} 60 s after its reset: ${[...seen.keys()].join(', ')}`);
      throw e;
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    assert.deepEqual([...seen.keys()].sort(), [CP, WORKERS[0]!]);
  });

  it('cluster destroy stops the discovery service with the nodes: nothing listens on its port', { timeout: 60_000 }, async () => {
    const d = await runBronzectl(['cluster', 'destroy', '--name', 'disc', '--state', join(dir, 'c')], { HOME: dir });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr + d.stdout, /stopped the discovery service/);
    assert.throws(() => process.kill(info.discovery!.pid, 0), /ESRCH/);
    assert.equal(await listening('127.79.12.1', 3000), false);
    info = undefined as unknown as ClusterInfo;
  });
});
