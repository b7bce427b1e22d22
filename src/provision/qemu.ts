import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { Client } from '../client/client.js';
import { clientOptionsFromContext } from '../client/from-talosconfig.js';
import type { TalosconfigContext } from '../client/talosconfig.js';
import { generateBundle } from '../config/generate/config.js';
import type { MachineConfig } from '../config/document.js';
import { applyPatches } from '../config/patch/apply.js';
import { loadPatch } from '../config/patch/load.js';
import {
  type ClusterCreateOptions,
  type ClusterInfo,
  type ClusterNode,
  clusterInfoPath,
  fileTail,
  ipv4String,
  mergeClusterContext,
  parseIPv4Range,
  ProvisionError,
  rangeAddresses,
  readCluster,
} from './process.js';

export type Arch = 'amd64' | 'arm64';

/** The guest's side of QEMU's user network: its address, the router, and where the config server answers. */
export const USER_NET = { guest: '10.0.2.15', router: '10.0.2.2', netmask: '255.255.255.0', configServer: '10.0.2.100', discovery: '10.0.2.101', cidr: '10.0.2.0/24' } as const;

/** The port the cluster's discovery service answers on, for the guests. */
export const GUEST_DISCOVERY_PORT = 3000;
/** The guest's interface on QEMU's user network (the first NIC) and on the cluster network (the second). */
export const USER_LINK = 'eth0';
export const CLUSTER_LINK = 'eth1';
const API_PORT = 50000;

export interface VMResources {
  memoryMiB: number;
  cpus: number;
}

export interface QemuCreateOptions extends ClusterCreateOptions {
  /** the cluster network between the VMs (not loopback, not QEMU's user network 10.0.2.0/24) */
  cidr: string;
  arch: Arch;
  vmlinuzPath: string;
  initrdPath: string;
  controlplane: VMResources;
  worker: VMResources;
  /** more kernel arguments for every node */
  extraKernelArgs?: string[];
  /** aborting stops the VMs made so far and removes the cluster */
  signal?: AbortSignal;
  /** how to run the node program (`bronze`), for the cluster's discovery service; without it the VMs use the configured (public) one */
  bronzeCommand?: string[];
  logger?: Logger;
}

/** The QEMU program of an architecture. */
export const qemuBinary = (arch: Arch) => (arch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64');

/** The host's architecture in Talos's words. */
export const hostArch = (): Arch => (process.arch === 'arm64' ? 'arm64' : 'amd64');

/** `--arch`: amd64 or arm64. */
export function parseArch(value: string): Arch {
  if (value === 'amd64' || value === 'arm64') return value;
  throw new ProvisionError(`--arch: "${value}" is not supported (amd64 or arm64)`, 'BRONZE_PROVISION_FLAG');
}

const MEMORY_UNITS: Record<string, number> = { '': 1, MiB: 1, M: 1, GiB: 1024, G: 1024, MB: 1e6 / 2 ** 20, GB: 1e9 / 2 ** 20 };
/** The least memory a node boots with: the root filesystem lives in RAM. */
export const MIN_MEMORY_MIB = 512;

/** `--memory` and `--memory-workers`: MiB without a unit (as talosctl), or with MiB, GiB, MB, GB. */
export function parseMemory(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(MiB|GiB|MB|GB|M|G)?\s*$/.exec(value);
  if (!m) throw new ProvisionError(`--${flag}: "${value}" is not a memory size (MiB, or a number with MiB or GiB)`, 'BRONZE_PROVISION_FLAG');
  const mib = Math.floor(Number(m[1]) * MEMORY_UNITS[m[2] ?? '']!);
  if (mib < MIN_MEMORY_MIB) throw new ProvisionError(`--${flag}: ${value} is too little: a node needs at least ${MIN_MEMORY_MIB} MiB`, 'BRONZE_PROVISION_FLAG');
  return mib;
}

/** `--cpus` and `--cpus-workers`: a number of CPUs (talosctl takes a fraction: it is rounded, at least 1). */
export function parseCpus(flag: string, value: string): number {
  const n = /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw new ProvisionError(`--${flag}: "${value}" is not a positive number of CPUs`, 'BRONZE_PROVISION_FLAG');
  const cpus = Math.max(1, Math.round(n));
  if (cpus > 64) throw new ProvisionError(`--${flag}: ${value} is more than the 64 CPUs a VM may have here`, 'BRONZE_PROVISION_FLAG');
  return cpus;
}

/** The cluster network of `--cidr`: the node addresses (.2, .3, ...) and the netmask. */
export function clusterNetwork(cidr: string, count: number): { addresses: string[]; netmask: string; prefix: number } {
  const range = parseIPv4Range(cidr, '10.5.0.0/24');
  const first = range.base >>> 24;
  const last = (range.base + 2 ** (32 - range.bits) - 1) >>> 0;
  const user = parseIPv4Range(USER_NET.cidr, USER_NET.cidr);
  if (first === 127 || first === 0 || first >= 224) throw new ProvisionError(`--cidr: ${cidr} is not a range VMs can use (loopback, "this network", multicast and reserved ranges are not)`, 'BRONZE_PROVISION_FLAG');
  if (range.base <= user.base + 255 && user.base <= last) throw new ProvisionError(`--cidr: ${cidr} overlaps ${USER_NET.cidr}, QEMU's user network the nodes' API is forwarded through`, 'BRONZE_PROVISION_FLAG');
  const netmask = ipv4String(range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0);
  return { addresses: rangeAddresses(range, cidr, count), netmask, prefix: range.bits };
}

/** The multicast group and port that joins a cluster's VMs (on 127.0.0.1): random, so that clusters stay apart. */
export function pickMulticast(bytes: Buffer = randomBytes(5)): { group: string; port: number } {
  // 239.0.0.0/8 is administratively scoped; ports above the registered range
  return { group: `239.${192 + (bytes[0]! % 64)}.${bytes[1]}.${1 + (bytes[2]! % 254)}`, port: 20_000 + (bytes.readUInt16BE(3) % 40_000) };
}

/** A locally administered MAC address: the cluster's three random bytes, the node's index and the NIC. */
export function macAddress(clusterBytes: Buffer, node: number, nic: number): string {
  if (node > 255 || nic > 255) throw new ProvisionError(`no MAC address for node ${node} NIC ${nic}`);
  return [0x02, clusterBytes[0]!, clusterBytes[1]!, clusterBytes[2]!, node, nic].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface NodeCmdline {
  arch: Arch;
  hostname: string;
  address: string;
  netmask: string;
  extra?: string[];
}

/**
 * The kernel command line of a node: the metal platform, its config from the config server on the user network, and
 * static addresses on both links (`ip=` each: the user link with QEMU's router as gateway, the cluster link without).
 */
export function nodeCmdline(n: NodeCmdline): string {
  const tty = n.arch === 'amd64' ? 'ttyS0' : 'ttyAMA0';
  return [
    'talos.platform=metal',
    // the ISO's boot entry has it too (scripts/image/lib.sh): Talos's kernels run no crypto self-tests, Debian's do
    'cryptomgr.notests',
    `console=${tty}`,
    `talos.config=http://${USER_NET.configServer}/config.yaml`,
    `ip=${USER_NET.guest}::${USER_NET.router}:${USER_NET.netmask}:${n.hostname}:${USER_LINK}:off`,
    `ip=${n.address}:::${n.netmask}::${CLUSTER_LINK}:off`,
    ...(n.extra ?? []),
  ].join(' ');
}

/** Quotes a word for the command of QEMU's guestfwd (parsed shell-like, without a shell). */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

/** QEMU's option syntax: a comma inside a value is doubled. */
export const qemuValue = (s: string) => s.replaceAll(',', ',,');

export interface VMSpec {
  arch: Arch;
  name: string;
  memoryMiB: number;
  cpus: number;
  kernel: string;
  initrd: string;
  cmdline: string;
  /** the serial console's log file */
  console: string;
  /** the host port forwarded (on 127.0.0.1) to the guest's API */
  apiPort: number;
  /** the program (argv) that answers the guest's config download */
  configServer: string[];
  /** the program (argv) that joins a guest's connection to the cluster's discovery service on the host */
  discoveryProxy?: string[];
  mcast: { group: string; port: number };
  /** MAC addresses of the user NIC and the cluster NIC */
  macs: [string, string];
}

/** QEMU's arguments for a node: TCG, the console to a file, a user NIC (API forward, config server) and a cluster NIC. */
export function qemuArgs(s: VMSpec): string[] {
  const user = [
    'user,id=user,restrict=on',
    `hostfwd=tcp:127.0.0.1:${s.apiPort}-${USER_NET.guest}:${API_PORT}`,
    `guestfwd=tcp:${USER_NET.configServer}:80-cmd:${qemuValue(s.configServer.map(shellWord).join(' '))}`,
    ...(s.discoveryProxy ? [`guestfwd=tcp:${USER_NET.discovery}:${GUEST_DISCOVERY_PORT}-cmd:${qemuValue(s.discoveryProxy.map(shellWord).join(' '))}`] : []),
  ].join(',');
  return [
    '-name',
    qemuValue(s.name),
    ...(s.arch === 'amd64' ? ['-machine', 'q35', '-cpu', 'max'] : ['-machine', 'virt', '-cpu', 'max']),
    '-accel',
    'tcg',
    '-m',
    String(s.memoryMiB),
    '-smp',
    String(s.cpus),
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${qemuValue(s.console)}`,
    '-netdev',
    user,
    '-device',
    `virtio-net-pci,netdev=user,mac=${s.macs[0]}`,
    '-netdev',
    `socket,id=cluster,mcast=${s.mcast.group}:${s.mcast.port},localaddr=127.0.0.1`,
    '-device',
    `virtio-net-pci,netdev=cluster,mac=${s.macs[1]}`,
    '-device',
    'virtio-rng-pci',
    '-kernel',
    qemuValue(s.kernel),
    '-initrd',
    qemuValue(s.initrd),
    '-append',
    s.cmdline,
  ];
}

/** A helper program of this build beside this module (TypeScript sources run under tsx). */
function helperCommand(name: 'qemu-config-http' | 'qemu-tcp-proxy'): string[] {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const entry = fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, here));
  return ts ? [process.execPath, '--import', import.meta.resolve('tsx'), entry] : [process.execPath, entry];
}

/** The config server program of this build (qemu-config-http). */
export const configServerCommand = () => helperCommand('qemu-config-http');

/** A free TCP port on 127.0.0.1 (for a hostfwd). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r, j) => srv.once('error', j).listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Whether a process runs (a zombie does not). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

const cmdlineOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};

/** Whether argv is a cluster's: QEMU, a config server, a discovery proxy or service, with a file below `dir` in its arguments. */
export function isClusterProcess(argv: string[], dir: string): boolean {
  const inside = `${dir.replace(/\/+$/, '')}/`;
  const program = argv[0] ?? '';
  const ours =
    /(^|\/)qemu-system-[\w-]+$/.test(program) ||
    argv.some((a) => /(^|\/)qemu-(config-http|tcp-proxy)\.(ts|js)$/.test(a)) ||
    (argv.includes('discovery') && argv.some((a) => /(^|\/)bronze\.(ts|js)$/.test(a)));
  return ours && argv.some((a) => a.includes(inside));
}

/** The running processes (but this one) of a cluster: its VMs and their config servers. */
export function clusterProcesses(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isClusterProcess(cmdlineOf(pid), dir) && running(pid));
}

/** The last lines of a console log. */
export function consoleTail(file: string, lines = 20): string {
  return fileTail(file, lines, '(no console output)');
}

const patch = (doc: unknown) => loadPatch(JSON.stringify(doc));

/**
 * Creates a cluster of QEMU VMs (TCG) booted from the image's kernel and initramfs. Each VM has two NICs: one on QEMU's
 * user network (restricted: it reaches nothing but its config server; the host reaches its API through a forwarded
 * port on 127.0.0.1) and one on the cluster network, multicast UDP on 127.0.0.1 that joins the VMs without root. The
 * nodes get static addresses from `cidr` on the cluster network (`ip=`), the control plane endpoint is the first
 * control plane's address there, and each VM downloads its own config. The VMs run detached from this process; their
 * pids go into the cluster record for `destroyQemuCluster`.
 */
export async function createQemuCluster(o: QemuCreateOptions): Promise<ClusterInfo> {
  const say = o.progress ?? (() => {});
  const log = o.logger ?? pino({ level: 'silent' });
  if (o.controlplanes < 1) throw new ProvisionError('--controlplanes: at least one control plane is needed', 'BRONZE_PROVISION_FLAG');
  if (o.workers < 0) throw new ProvisionError('--workers: cannot be negative', 'BRONZE_PROVISION_FLAG');
  const count = o.controlplanes + o.workers;
  if (count > 250) throw new ProvisionError(`--controlplanes, --workers: ${count} nodes are more than a qemu cluster takes (250)`, 'BRONZE_PROVISION_FLAG');
  const net = clusterNetwork(o.cidr, count);
  const kernel = resolve(o.vmlinuzPath);
  const initrd = resolve(o.initrdPath);
  if (!existsSync(kernel)) throw new ProvisionError(`--vmlinuz-path: ${kernel} does not exist (make image ARCH=${o.arch} builds it)`, 'BRONZE_PROVISION_FLAG');
  if (!existsSync(initrd)) throw new ProvisionError(`--initrd-path: ${initrd} does not exist (make image ARCH=${o.arch} builds it)`, 'BRONZE_PROVISION_FLAG');
  const qemu = qemuBinary(o.arch);
  if (spawnSync(qemu, ['--version'], { stdio: 'ignore' }).status !== 0) throw new ProvisionError(`--arch ${o.arch}: ${qemu} is not installed`, 'BRONZE_PROVISION_FLAG');
  const clusterDir = resolve(o.stateDir, o.name);
  if (existsSync(clusterInfoPath(o.stateDir, o.name))) throw new ProvisionError(`cluster "${o.name}" already exists (in ${clusterDir}): destroy it first`);

  const endpointAddress = net.addresses[0]!;
  const endpoint = `https://${endpointAddress}:6443`;
  say(`generating PKI and configs for cluster "${o.name}"`);
  const bundle = await generateBundle(
    { clusterName: o.name, endpoint },
    {
      // the user network reaches no time server: the clock is the host's; etcd and the kubelet use the cluster network
      all: [
        patch({ machine: { time: { disabled: true }, kubelet: { nodeIP: { validSubnets: [o.cidr] } } } }),
        // the cluster's own discovery service, which the VMs reach through their user network
        ...(o.bronzeCommand ? [patch({ cluster: { discovery: { enabled: true, registries: { service: { endpoint: `http://${USER_NET.discovery}:${GUEST_DISCOVERY_PORT}/` } } } } })] : []),
      ],
      controlPlane: [patch({ cluster: { etcd: { advertisedSubnets: [o.cidr] } } })],
    },
  );
  const talosContext: TalosconfigContext = bundle.talosconfig.contexts[o.name]!;
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const mcast = pickMulticast();
  const macBytes = randomBytes(3);
  const info: ClusterInfo = {
    name: o.name,
    provisioner: 'qemu',
    cidr: o.cidr,
    apiPort: API_PORT,
    trustdPort: 50001,
    nodes: [],
    qemu: { arch: o.arch, kernel, initrd, mcast: `${mcast.group}:${mcast.port}`, endpoint },
  };
  const save = () => writeFileSync(clusterInfoPath(o.stateDir, o.name), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  save();
  const configServer = configServerCommand();
  let discoveryProxy: string[] | undefined;
  try {
    if (o.bronzeCommand) {
      const listen = `127.0.0.1:${await freePort()}`;
      const out = openSync(join(clusterDir, 'discovery.log'), 'a');
      const child = spawn(o.bronzeCommand[0]!, [...o.bronzeCommand.slice(1), 'discovery', '--listen', listen, '--log', join(clusterDir, 'discovery.log')], { detached: true, stdio: ['ignore', out, out] });
      closeSync(out);
      child.unref();
      if (!child.pid) throw new ProvisionError('starting the discovery service failed', 'BRONZE_PROVISION');
      info.discovery = { pid: child.pid, listen };
      save();
      discoveryProxy = [...helperCommand('qemu-tcp-proxy'), listen, join(clusterDir, 'discovery-proxy.log')];
      say(`started the discovery service at ${listen} (${USER_NET.discovery}:${GUEST_DISCOVERY_PORT} for the VMs), pid ${child.pid}`);
    }
    for (const [i, address] of net.addresses.entries()) {
      o.signal?.throwIfAborted();
      const type = i < o.controlplanes ? 'controlplane' : 'worker';
      const name = type === 'controlplane' ? `${o.name}-controlplane-${i + 1}` : `${o.name}-worker-${i - o.controlplanes + 1}`;
      const res = type === 'controlplane' ? o.controlplane : o.worker;
      const dir = join(clusterDir, name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const config: MachineConfig = applyPatches(type === 'controlplane' ? bundle.controlplane : bundle.worker, [patch({ machine: { network: { hostname: name } } })]);
      const configPath = join(dir, 'config.yaml');
      writeFileSync(configPath, config.toString(), { mode: 0o600 });
      const apiPort = await freePort();
      const consolePath = join(dir, 'console.log');
      const args = qemuArgs({
        arch: o.arch,
        name,
        memoryMiB: res.memoryMiB,
        cpus: res.cpus,
        kernel,
        initrd,
        cmdline: nodeCmdline({ arch: o.arch, hostname: name, address, netmask: net.netmask, extra: o.extraKernelArgs }),
        console: consolePath,
        apiPort,
        configServer: [...configServer, configPath, join(dir, 'config-http.log')],
        ...(discoveryProxy ? { discoveryProxy } : {}),
        mcast,
        macs: [macAddress(macBytes, i, 0), macAddress(macBytes, i, 1)],
      });
      writeFileSync(join(dir, 'qemu.args'), `${JSON.stringify([qemu, ...args])}\n`);
      const out = openSync(join(dir, 'qemu.log'), 'a');
      // a session of its own: the VM outlives this command, and a signal to the group reaches what QEMU starts
      const child = spawn(qemu, args, { detached: true, stdio: ['ignore', out, out], cwd: dir });
      closeSync(out);
      child.unref();
      const pid = await new Promise<number>((res, rej) => {
        child.once('spawn', () => res(child.pid!));
        child.once('error', (e) => rej(new ProvisionError(`starting ${qemu} for ${name}: ${e.message}`, 'BRONZE_PROVISION_VM')));
      });
      info.nodes.push({ name, type, address, pid, dir, apiEndpoint: `127.0.0.1:${apiPort}`, console: consolePath, memoryMiB: res.memoryMiB, cpus: res.cpus });
      save();
      log.info({ node: name, pid, address, apiPort }, 'VM started');
      say(`started ${name} (${type}) at ${address}, API on 127.0.0.1:${apiPort}, pid ${pid}`);
    }

    const context = await mergeClusterContext(o.talosconfig, o.name, talosContext, [info.nodes[0]!.apiEndpoint!], net.addresses);
    say(`merged context "${context}" into ${o.talosconfig}`);
    // TCG is slow: the default wait is long
    await waitForNodes(info, talosContext, Date.now() + (o.waitTimeoutMs ?? 600_000), say, o.signal);
    return info;
  } catch (e) {
    await destroyQemuCluster(o.stateDir, o.name).catch((err: unknown) => log.warn({ err }, 'cleaning up after a failed create'));
    throw e;
  }
}

/** The VM of a node stopped: its QEMU log and console tail say why. */
function vmEnded(n: ClusterNode): ProvisionError {
  const qlog = join(n.dir, 'qemu.log');
  const qemuOut = existsSync(qlog) ? readFileSync(qlog, 'utf8').trim() : '';
  return new ProvisionError(`${n.name}: the VM ended${qemuOut ? `: ${qemuOut}` : ''}\n--- console of ${n.name} ---\n${consoleTail(n.console ?? '')}`, 'BRONZE_PROVISION_VM');
}

/**
 * Waits until every node answers Version: the first control plane through its forwarded port, the others through
 * it (apid routes to them over the cluster network), as bronzectl will reach them.
 */
async function waitForNodes(info: ClusterInfo, ctx: TalosconfigContext, deadline: number, say: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const first = info.nodes[0]!;
  for (const n of info.nodes) {
    for (;;) {
      signal?.throwIfAborted();
      const dead = info.nodes.find((v) => !running(v.pid));
      if (dead) throw vmEnded(dead);
      // a client per attempt: a channel's reconnect backoff would hide the moment the node comes up
      const client = new Client(clientOptionsFromContext(ctx, { endpoints: [first.apiEndpoint!] }));
      try {
        await client.machine.version({}, { timeout: 10_000, ...(n === first ? {} : { node: n.address }) });
        break;
      } catch (e) {
        if (Date.now() > deadline) {
          const tails = info.nodes.map((v) => `--- console of ${v.name} ---\n${consoleTail(v.console ?? '')}`).join('\n');
          throw new ProvisionError(`${n.name} did not answer in time: ${(e as Error).message}\n${tails}`, 'BRONZE_PROVISION_TIMEOUT');
        }
        await delay(1000, undefined, { signal });
      } finally {
        client.close();
      }
    }
    say(`${n.name} API is up${n === first ? '' : ` (through ${first.name})`}`);
  }
}

/** Sends `sig` to a process group, or to the process if it leads none. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
      return;
    } catch {
      // not a group leader, or gone
    }
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await delay(100);
  }
  return true;
}

/**
 * Stops every VM of a qemu cluster (SIGTERM to its process group, SIGKILL after 10 s) and whatever else still runs
 * with the cluster's directory in its arguments (config servers), then removes the cluster's state. Fails, keeping
 * the state, when a process survives.
 */
export async function destroyQemuCluster(stateDir: string, name: string, progress?: (line: string) => void): Promise<void> {
  const info = readCluster(stateDir, name);
  const clusterDir = resolve(stateDir, name);
  // a recorded pid counts only while it still is that VM (its arguments name the node's directory)
  const vms = info.nodes.filter((n) => running(n.pid) && isClusterProcess(cmdlineOf(n.pid), n.dir));
  for (const n of vms) signalGroup(n.pid, 'SIGTERM');
  if (!(await until(() => vms.every((n) => !running(n.pid)), 10_000))) for (const n of vms) signalGroup(n.pid, 'SIGKILL');
  for (const pid of clusterProcesses(clusterDir)) signalGroup(pid, 'SIGKILL');
  const gone = await until(() => vms.every((n) => !running(n.pid)) && clusterProcesses(clusterDir).length === 0, 10_000);
  if (!gone) throw new ProvisionError(`cluster "${name}": processes still running after SIGKILL: ${[...vms.filter((n) => running(n.pid)).map((n) => n.pid), ...clusterProcesses(clusterDir)].join(', ')}`, 'BRONZE_PROVISION_VM');
  for (const n of info.nodes) progress?.(`stopped ${n.name}`);
  rmSync(clusterDir, { recursive: true, force: true });
  progress?.(`removed ${clusterDir}`);
}
