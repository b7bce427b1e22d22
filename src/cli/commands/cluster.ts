import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { talosconfigPath } from '../../client/talosconfig.js';
import { type ClusterInfo, createCluster, destroyCluster, ProvisionError, readCluster } from '../../provision/process.js';
import { createQemuCluster, destroyQemuCluster, hostArch, parseArch, parseCpus, parseMemory, running } from '../../provision/qemu.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../flags.js';
import { outputFlag, outputFormat, printDocuments, printResult, resultFormat, resultOutputFlag, textLines } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

/** How to run the node program of this build: the bundled entry beside this CLI (TypeScript sources run under tsx). */
export function bronzeCommand(): string[] {
  const here = import.meta.url;
  const entry = fileURLToPath(new URL(`../../bin/bronze.${here.endsWith('.ts') ? 'ts' : 'js'}`, here));
  return here.endsWith('.ts') ? [process.execPath, '--import', 'tsx', entry] : [process.execPath, entry];
}

const stateFlag = { name: 'state', kind: 'string' as const, description: 'directory path to store cluster state', default: join(homedir(), '.bronze', 'clusters') };
const nameFlag = { name: 'name', kind: 'string' as const, description: 'the name of the cluster', default: 'bronze' };

/** Flags only the qemu provisioner takes (talosctl's names). */
const qemuFlags = ['vmlinuz-path', 'initrd-path', 'memory', 'memory-workers', 'cpus', 'cpus-workers', 'arch', 'extra-boot-kernel-args'];
const DEFAULT_QEMU_CIDR = '10.5.0.0/24';
const DEFAULT_QEMU_WAIT_MS = 600_000;

/** Destroys a cluster the way its provisioner made it. */
async function destroyAny(stateDir: string, name: string, progress: (line: string) => void): Promise<void> {
  const info = readCluster(stateDir, name);
  if (info.provisioner === 'qemu') await destroyQemuCluster(stateDir, name, progress);
  else await destroyCluster(stateDir, name, progress);
}

/** The cluster's record, refusing a `--provisioner` given explicitly that is not the one that made it. */
function readFor(ctx: CommandContext): ClusterInfo {
  const info = readCluster(ctx.string('state')!, ctx.string('name')!);
  const wanted = ctx.string('provisioner');
  if (ctx.given('provisioner') && wanted !== info.provisioner) {
    throw new ProvisionError(`--provisioner: cluster "${info.name}" was created by the ${info.provisioner} provisioner, not ${wanted}`, 'BRONZE_PROVISION_FLAG');
  }
  return info;
}

async function createQemu(ctx: CommandContext, name: string, stateDir: string, talosconfig: string): Promise<ClusterInfo> {
  const arch = parseArch(ctx.string('arch')!);
  const extra = ctx.string('extra-boot-kernel-args')?.trim();
  return await createQemuCluster({
    name,
    stateDir,
    cidr: ctx.given('cidr') ? ctx.string('cidr')! : DEFAULT_QEMU_CIDR,
    controlplanes: ctx.int('controlplanes')!,
    workers: ctx.int('workers')!,
    talosconfig,
    arch,
    vmlinuzPath: ctx.string('vmlinuz-path') ?? join('_out', `vmlinuz-${arch}`),
    initrdPath: ctx.string('initrd-path') ?? join('_out', `initramfs-${arch}.xz`),
    controlplane: { memoryMiB: parseMemory('memory', ctx.string('memory')!), cpus: parseCpus('cpus', ctx.string('cpus')!) },
    worker: { memoryMiB: parseMemory('memory-workers', ctx.string('memory-workers')!), cpus: parseCpus('cpus-workers', ctx.string('cpus-workers')!) },
    extraKernelArgs: extra ? extra.split(/\s+/) : [],
    waitTimeoutMs: ctx.given('wait-timeout') ? ctx.duration('wait-timeout') : DEFAULT_QEMU_WAIT_MS,
    signal: ctx.io.signal,
    progress: (line) => ctx.err(`${line}\n`),
    bronzeCommand: bronzeCommand(),
  });
}

const create: Command = {
  name: 'create',
  summary: 'Creates a local cluster: nodes as processes on this machine, or QEMU VMs booted from the image',
  flags: [
    { name: 'provisioner', kind: 'string', description: 'the provisioner: process (nodes as processes on loopback addresses) or qemu (VMs booted from the image in _out/)', default: 'process' },
    nameFlag,
    stateFlag,
    { name: 'cidr', kind: 'string', description: 'the range the nodes get addresses from: loopback for process; the cluster network for qemu (default 10.5.0.0/24 there)', default: '127.65.0.0/24' },
    { name: 'controlplanes', kind: 'int', description: 'the number of control plane nodes', default: 1 },
    { name: 'workers', kind: 'int', description: 'the number of worker nodes', default: 1 },
    { name: 'wait-timeout', kind: 'duration', description: 'how long to wait for the nodes to answer (qemu: 10m0s unless given)', default: 120_000 },
    { name: 'foreground', kind: 'bool', description: 'stay in the foreground and destroy the cluster on Ctrl-C' },
    { name: 'vmlinuz-path', kind: 'string', description: 'qemu: the compressed kernel image to use (default _out/vmlinuz-<arch>)' },
    { name: 'initrd-path', kind: 'string', description: 'qemu: initramfs image to use (default _out/initramfs-<arch>.xz)' },
    { name: 'memory', kind: 'string', description: 'qemu: the memory of each control plane VM (MiB, or with a unit: 2GiB)', default: '2048' },
    { name: 'memory-workers', kind: 'string', description: 'qemu: the memory of each worker VM (MiB, or with a unit: 2GiB)', default: '2048' },
    { name: 'cpus', kind: 'string', description: 'qemu: the CPUs of each control plane VM', default: '2' },
    { name: 'cpus-workers', kind: 'string', description: 'qemu: the CPUs of each worker VM', default: '2' },
    { name: 'arch', kind: 'string', description: 'qemu: cluster architecture (amd64 or arm64)', default: hostArch() },
    { name: 'extra-boot-kernel-args', kind: 'string', description: 'qemu: add extra kernel args to the boot from vmlinuz and initramfs' },
    resultOutputFlag,
  ],
  async run(ctx: CommandContext) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const provisioner = ctx.string('provisioner');
    if (provisioner !== 'process' && provisioner !== 'qemu') throw new UsageError(`--provisioner: "${provisioner}" is not available (process and qemu are)`);
    const name = ctx.string('name')!;
    const stateDir = ctx.string('state')!;
    const talosconfig = talosconfigPath(ctx.string('talosconfig'), ctx.io.env);
    let info: ClusterInfo;
    if (provisioner === 'qemu') {
      info = await createQemu(ctx, name, stateDir, talosconfig);
    } else {
      const misplaced = qemuFlags.find((f) => ctx.given(f));
      if (misplaced) throw new UsageError(`--${misplaced}: only the qemu provisioner takes it`);
      info = await createCluster({
        name,
        stateDir,
        cidr: ctx.string('cidr')!,
        controlplanes: ctx.int('controlplanes')!,
        workers: ctx.int('workers')!,
        talosconfig,
        bronzeCommand: bronzeCommand(),
        waitTimeoutMs: ctx.duration('wait-timeout'),
        progress: (line) => ctx.err(`${line}\n`),
      });
    }
    const worker = info.nodes.find((n) => n.type === 'worker') ?? info.nodes[0]!;
    // with -o json|yaml the cluster is the result, and the hints go to stderr
    const hint = textLines(ctx);
    printResult(ctx, undefined, { name, provisioner, cidr: info.cidr, talosconfig, nodes: info.nodes.map((n) => ({ name: n.name, type: n.type, address: n.address, pid: n.pid })) });
    hint(`cluster "${name}" is up; talosconfig: ${talosconfig}\n\nTry:\n`);
    hint(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${worker.address} version\n`);
    hint(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${info.nodes.map((n) => n.address).join(',')} services\n`);
    hint(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${info.nodes[0]!.address} get hostname\n`);
    if (!ctx.bool('foreground')) return 0;
    hint('\nPress Ctrl-C to destroy the cluster.\n');
    // nothing else keeps the process alive while it waits for the signal: a timer does
    const keepAlive = setInterval(() => {}, 1 << 30);
    await new Promise<void>((resolve) => {
      if (ctx.io.signal.aborted) resolve();
      else ctx.io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(keepAlive);
    await destroyAny(stateDir, name, (line) => ctx.err(`${line}\n`));
    return 0;
  },
};

const destroy: Command = {
  name: 'destroy',
  summary: 'Destroys a local cluster: stops its nodes (processes or VMs) and removes their state',
  flags: [nameFlag, stateFlag, { name: 'provisioner', kind: 'string', description: 'the provisioner (the one that created the cluster)', default: 'process' }, resultOutputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    readFor(ctx);
    await destroyAny(ctx.string('state')!, ctx.string('name')!, (line) => ctx.err(`${line}\n`));
    printResult(ctx, undefined, { name: ctx.string('name')!, destroyed: true });
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'Shows the nodes of a local cluster',
  flags: [nameFlag, stateFlag, { name: 'provisioner', kind: 'string', description: 'the provisioner', default: 'process' }, outputFlag],
  run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    const info = readFor(ctx);
    if (format !== 'table') {
      printDocuments(ctx, format, [info]);
      return 0;
    }
    if (info.provisioner !== 'qemu') {
      ctx.out(`PROVISIONER   ${info.provisioner}\nNAME          ${info.name}\nNETWORK CIDR  ${info.cidr}\n\nNODES:\n\n`);
      ctx.out(tabulate([['NAME', 'TYPE', 'IP', 'PID'], ...info.nodes.map((n) => [n.name, n.type, n.address, String(n.pid)])]));
      return 0;
    }
    ctx.out(
      tabulate([
        ['PROVISIONER', info.provisioner],
        ['NAME', info.name],
        ['NETWORK CIDR', info.cidr],
        ['KUBERNETES ENDPOINT', info.qemu?.endpoint ?? '-'],
      ]),
    );
    ctx.out('\nNODES:\n\n');
    const rows = info.nodes.map((n) => [n.name, n.type, n.address, n.apiEndpoint ?? '-', n.cpus ? `${n.cpus}.00` : '-', n.memoryMiB ? `${n.memoryMiB} MiB` : '-', String(n.pid), running(n.pid) ? 'running' : 'stopped']);
    ctx.out(tabulate([['NAME', 'TYPE', 'IP', 'API', 'CPU', 'RAM', 'PID', 'STATE'], ...rows]));
    return 0;
  },
};

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'A collection of commands for managing local clusters',
  subcommands: [create, destroy, show],
};
