import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '../client/client.js';
import { clientOptionsFromContext } from '../client/from-talosconfig.js';
import { loadTalosconfig, mergeTalosconfig, type Talosconfig, type TalosconfigContext, writeTalosconfig } from '../client/talosconfig.js';
import { generateBundle } from '../config/generate/config.js';
import { loadPatch } from '../config/patch/load.js';
import { releaseShortSocketLinks } from '../sys/socket-path.js';

/**
 * Stable codes: `BRONZE_PROVISION` (the cluster cannot be made or found), `BRONZE_PROVISION_FLAG` (a flag's value is
 * not usable; the message starts with the flag), `BRONZE_PROVISION_VM` (a VM did not start or ended),
 * `BRONZE_PROVISION_TIMEOUT` (a node did not answer in time).
 */
export type ProvisionErrorCode = 'BRONZE_PROVISION' | 'BRONZE_PROVISION_FLAG' | 'BRONZE_PROVISION_VM' | 'BRONZE_PROVISION_TIMEOUT';

export class ProvisionError extends Error {
  readonly code: ProvisionErrorCode;
  constructor(message: string, code: ProvisionErrorCode = 'BRONZE_PROVISION') {
    super(message);
    this.name = 'ProvisionError';
    this.code = code;
  }
}

export interface ClusterNode {
  name: string;
  type: 'controlplane' | 'worker';
  address: string;
  pid: number;
  dir: string;
  /** qemu: where the host reaches the node's API (`127.0.0.1:<forwarded port>`) */
  apiEndpoint?: string;
  /** qemu: the guest's serial console log */
  console?: string;
  /** qemu: the VM's memory in MiB */
  memoryMiB?: number;
  /** qemu: the VM's virtual CPUs */
  cpus?: number;
}

export interface ClusterInfo {
  name: string;
  provisioner: 'process' | 'qemu';
  cidr: string;
  apiPort: number;
  trustdPort: number;
  nodes: ClusterNode[];
  /** process: the cluster's discovery service (`bronze discovery`), which the configs name */
  discovery?: { pid: number; listen: string };
  /** qemu: how the VMs were made */
  qemu?: {
    arch: 'amd64' | 'arm64';
    kernel: string;
    initrd: string;
    /** the multicast group and port (on 127.0.0.1) that carries the cluster network between the VMs */
    mcast: string;
    /** the control plane endpoint written into the configs */
    endpoint: string;
  };
}

/** What every provisioner's create takes. */
export interface ClusterCreateOptions {
  name: string;
  /** where clusters live (each in `<stateDir>/<name>`) */
  stateDir: string;
  /** the IPv4 range the nodes get addresses from: nodes take .2, .3, ... */
  cidr: string;
  controlplanes: number;
  workers: number;
  /** the talosconfig to merge the cluster's context into */
  talosconfig: string;
  /** how long to wait for every node's API */
  waitTimeoutMs?: number;
  progress?(line: string): void;
}

export interface CreateOptions extends ClusterCreateOptions {
  /** an IPv4 /24 (or larger) range on loopback */
  cidr: string;
  /** how to run the node program (`bronze`): argv prefix */
  bronzeCommand: string[];
  apiPort?: number;
  trustdPort?: number;
  /** the port of the cluster's discovery service (on the range's .1 address) */
  discoveryPort?: number;
}

/** The port the discovery service listens on by default (as the public one's images do). */
export const DISCOVERY_PORT = 3000;

/** An IPv4 range from `--cidr`: its first address (host bits cleared) and prefix length. */
export interface IPv4Range {
  /** the network address as an unsigned 32-bit number */
  base: number;
  bits: number;
}

export const ipv4String = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

/** Parses `--cidr` (`a.b.c.d/n`, n at most 30); `example` goes into the error. */
export function parseIPv4Range(cidr: string, example: string): IPv4Range {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new ProvisionError(`--cidr: "${cidr}" is not an IPv4 CIDR such as ${example}`, 'BRONZE_PROVISION_FLAG');
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 30) throw new ProvisionError(`--cidr: "${cidr}" is not a usable IPv4 range`, 'BRONZE_PROVISION_FLAG');
  const size = 2 ** (32 - bits);
  const a = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  return { base: a - (a % size), bits };
}

/** `count` addresses of a range from .2 on (.1 is left for a gateway, as Talos's provisioners do). */
export function rangeAddresses(range: IPv4Range, cidr: string, count: number): string[] {
  if (count + 2 > 2 ** (32 - range.bits)) throw new ProvisionError(`--cidr: ${cidr} has no room for ${count} nodes`, 'BRONZE_PROVISION_FLAG');
  return Array.from({ length: count }, (_, i) => ipv4String(range.base + 2 + i));
}

/** The node addresses of a CIDR: .2, .3, ... */
export function nodeAddresses(cidr: string, count: number): string[] {
  const range = parseIPv4Range(cidr, '127.65.0.0/24');
  if (range.base >>> 24 !== 127) throw new ProvisionError(`--cidr: the process provisioner runs nodes on loopback addresses (127.0.0.0/8), not ${cidr}`, 'BRONZE_PROVISION_FLAG');
  return rangeAddresses(range, cidr, count);
}

/**
 * Merges the cluster's context (the generated one, with `endpoints` and `nodes`) into the talosconfig at `path` and
 * makes it current; returns the name it got (`<name>-1`, ... when the name was taken).
 */
export async function mergeClusterContext(path: string, name: string, ctx: TalosconfigContext, endpoints: string[], nodes: string[]): Promise<string> {
  const fresh: Talosconfig = { context: name, contexts: { [name]: { ...ctx, endpoints, nodes } } };
  const existing = existsSync(path) ? await loadTalosconfig(path) : { context: '', contexts: {} };
  const renames = mergeTalosconfig(existing, fresh);
  await writeTalosconfig(path, existing);
  return renames[0]?.to ?? name;
}

/** Where a cluster's record (its nodes, their pids) is kept. */
export const clusterInfoPath = (stateDir: string, name: string) => join(stateDir, name, 'cluster.json');

export function readCluster(stateDir: string, name: string): ClusterInfo {
  const p = clusterInfoPath(stateDir, name);
  if (!existsSync(p)) throw new ProvisionError(`cluster "${name}" not found in ${stateDir}`);
  return JSON.parse(readFileSync(p, 'utf8')) as ClusterInfo;
}

/** Whether a process exists (a zombie not yet reaped counts). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Creates a cluster of nodes on this machine: generates the configs as `gen config` does, starts one machined per
 * node (on its own loopback address, with apid on :apiPort and, on control planes, trustd on :trustdPort), merges a
 * context into the talosconfig, and waits until every node's API answers.
 */
export async function createCluster(o: CreateOptions): Promise<ClusterInfo> {
  const say = o.progress ?? (() => {});
  if (o.controlplanes < 1) throw new ProvisionError('--controlplanes: at least one control plane is needed', 'BRONZE_PROVISION_FLAG');
  const clusterDir = join(o.stateDir, o.name);
  if (existsSync(clusterInfoPath(o.stateDir, o.name))) throw new ProvisionError(`cluster "${o.name}" already exists (in ${clusterDir}): destroy it first`);
  const addresses = nodeAddresses(o.cidr, o.controlplanes + o.workers);
  const apiPort = o.apiPort ?? 50000;
  const trustdPort = o.trustdPort ?? 50001;
  say(`generating PKI and configs for cluster "${o.name}"`);
  const endpointHost = addresses[0]!;
  // the public discovery service is out of reach of a local cluster (and of its tests): the cluster runs its own on
  // the range's .1 address, and the configs point at it
  const discoveryListen = `${ipv4String(parseIPv4Range(o.cidr, '127.65.0.0/24').base + 1)}:${o.discoveryPort ?? DISCOVERY_PORT}`;
  const bundle = await generateBundle(
    { clusterName: o.name, endpoint: `https://${endpointHost}:6443` },
    { all: [loadPatch(JSON.stringify({ cluster: { discovery: { enabled: true, registries: { service: { endpoint: `http://${discoveryListen}/` } } } } }))] },
  );
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const info: ClusterInfo = { name: o.name, provisioner: 'process', cidr: o.cidr, apiPort, trustdPort, nodes: [] };
  const save = () => writeFileSync(clusterInfoPath(o.stateDir, o.name), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  try {
    const discoveryOut = openSync(join(clusterDir, 'discovery.log'), 'a');
    const discovery = spawn(o.bronzeCommand[0]!, [...o.bronzeCommand.slice(1), 'discovery', '--listen', discoveryListen], { detached: true, stdio: ['ignore', discoveryOut, discoveryOut] });
    discovery.unref();
    if (!discovery.pid) throw new ProvisionError('starting the discovery service failed');
    info.discovery = { pid: discovery.pid, listen: discoveryListen };
    save();
    say(`started the discovery service at ${discoveryListen}, pid ${discovery.pid}`);
    for (const [i, address] of addresses.entries()) {
      const type = i < o.controlplanes ? 'controlplane' : 'worker';
      const name = type === 'controlplane' ? `${o.name}-controlplane-${i + 1}` : `${o.name}-worker-${i - o.controlplanes + 1}`;
      const dir = join(clusterDir, name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, 'config.yaml'), (type === 'controlplane' ? bundle.controlplane : bundle.worker).toString(), { mode: 0o600 });
      const out = openSync(join(dir, 'machined.log'), 'a');
      const child = spawn(o.bronzeCommand[0]!, [...o.bronzeCommand.slice(1), 'machined', '--state', dir, '--address', address, '--api-port', String(apiPort), '--trustd-port', String(trustdPort)], {
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.unref();
      if (!child.pid) throw new ProvisionError(`starting ${name} failed`);
      info.nodes.push({ name, type, address, pid: child.pid, dir });
      save();
      say(`started ${name} (${type}) at ${address}, pid ${child.pid}`);
    }

    const endpoint = apiPort === 50000 ? endpointHost : `${endpointHost}:${apiPort}`;
    const ctx = bundle.talosconfig.contexts[o.name]!;
    const merged = await mergeClusterContext(o.talosconfig, o.name, ctx, [endpoint], addresses);
    say(`merged context "${merged}" into ${o.talosconfig}`);

    const deadline = Date.now() + (o.waitTimeoutMs ?? 120_000);
    for (const n of info.nodes) {
      const client = new Client(clientOptionsFromContext(ctx, { endpoints: [apiPort === 50000 ? n.address : `${n.address}:${apiPort}`] }));
      try {
        for (;;) {
          if (!alive(n.pid)) throw new ProvisionError(`${n.name} exited\n${nodeLogTails(n)}`);
          try {
            await client.machine.version({}, { timeout: 5000 });
            break;
          } catch (e) {
            if (Date.now() > deadline) throw new ProvisionError(`${n.name} did not answer in time: ${(e as Error).message}\n${nodeLogTails(n)}`, 'BRONZE_PROVISION_TIMEOUT');
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        client.close();
      }
      say(`${n.name} API is up`);
    }
    return info;
  } catch (e) {
    await destroyCluster(o.stateDir, o.name).catch(() => {});
    throw e;
  }
}

/** The last `lines` lines of a text file, or what stands in for them when it is missing or empty. */
export function fileTail(file: string, lines = 20, missing = '(no output)'): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8').replace(/\r/g, '').trimEnd() : '';
  return text === '' ? missing : text.split('\n').slice(-lines).join('\n');
}

/**
 * What a node that failed to come up wrote: the tail of machined's output and of apid's log. A failed create removes
 * the node's state directory, so the error carries them rather than pointing there.
 */
function nodeLogTails(n: ClusterNode): string {
  const parts = [`--- ${n.name}: machined ---\n${fileTail(join(n.dir, 'machined.log'))}`];
  const apid = join(n.dir, 'logs', 'apid.log');
  if (existsSync(apid)) parts.push(`--- ${n.name}: apid ---\n${fileTail(apid, 10)}`);
  return parts.join('\n');
}

/** Stops every process of the cluster (SIGTERM, then SIGKILL) and removes its state. */
export async function destroyCluster(stateDir: string, name: string, progress?: (line: string) => void): Promise<void> {
  const info = readCluster(stateDir, name);
  // the discovery service is one more process of the cluster
  const procs = [...info.nodes.map((n) => ({ name: n.name, pid: n.pid })), ...(info.discovery ? [{ name: 'the discovery service', pid: info.discovery.pid }] : [])];
  for (const p of procs) {
    if (!alive(p.pid)) continue;
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 15_000;
  while (procs.some((p) => alive(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const p of procs) {
    for (const target of [-p.pid, p.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    progress?.(`stopped ${p.name}`);
  }
  releaseShortSocketLinks(join(stateDir, name));
  rmSync(join(stateDir, name), { recursive: true, force: true });
  progress?.(`removed ${join(stateDir, name)}`);
}
