import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { talosconfigPath } from '../../client/talosconfig.js';
import { createCluster, destroyCluster, readCluster } from '../../provision/process.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../flags.js';
import { outputFlag, outputFormat, printDocuments } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

/** How to run the node program of this build: the bundled entry beside this CLI (TypeScript sources run under tsx). */
export function bronzeCommand(): string[] {
  const here = import.meta.url;
  const entry = fileURLToPath(new URL(`../../bin/bronze.${here.endsWith('.ts') ? 'ts' : 'js'}`, here));
  return here.endsWith('.ts') ? [process.execPath, '--import', 'tsx', entry] : [process.execPath, entry];
}

const stateFlag = { name: 'state', kind: 'string' as const, description: 'directory path to store cluster state', default: join(homedir(), '.bronze', 'clusters') };
const nameFlag = { name: 'name', kind: 'string' as const, description: 'the name of the cluster', default: 'bronze' };

const create: Command = {
  name: 'create',
  summary: 'Creates a local cluster of nodes on this machine',
  flags: [
    { name: 'provisioner', kind: 'string', description: 'the provisioner: process (nodes as processes on loopback addresses)', default: 'process' },
    nameFlag,
    stateFlag,
    { name: 'cidr', kind: 'string', description: 'the loopback range the nodes get addresses from', default: '127.65.0.0/24' },
    { name: 'controlplanes', kind: 'int', description: 'the number of control plane nodes', default: 1 },
    { name: 'workers', kind: 'int', description: 'the number of worker nodes', default: 1 },
    { name: 'wait-timeout', kind: 'duration', description: 'how long to wait for the nodes to answer', default: 120_000 },
    { name: 'foreground', kind: 'bool', description: 'stay in the foreground and destroy the cluster on Ctrl-C' },
  ],
  async run(ctx: CommandContext) {
    ctx.expectArgs(0);
    const provisioner = ctx.string('provisioner');
    if (provisioner !== 'process') throw new UsageError(`--provisioner: "${provisioner}" is not available (process is)`);
    const name = ctx.string('name')!;
    const stateDir = ctx.string('state')!;
    const talosconfig = talosconfigPath(ctx.string('talosconfig'), ctx.io.env);
    const info = await createCluster({
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
    const worker = info.nodes.find((n) => n.type === 'worker') ?? info.nodes[0]!;
    ctx.out(`cluster "${name}" is up; talosconfig: ${talosconfig}\n\nTry:\n`);
    ctx.out(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${worker.address} version\n`);
    ctx.out(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${info.nodes.map((n) => n.address).join(',')} services\n`);
    ctx.out(`  ./bin/bronzectl --talosconfig ${talosconfig} -n ${info.nodes[0]!.address} get hostname\n`);
    if (!ctx.bool('foreground')) return 0;
    ctx.out('\nPress Ctrl-C to destroy the cluster.\n');
    // nothing else keeps the process alive while it waits for the signal: a timer does
    const keepAlive = setInterval(() => {}, 1 << 30);
    await new Promise<void>((resolve) => {
      if (ctx.io.signal.aborted) resolve();
      else ctx.io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(keepAlive);
    await destroyCluster(stateDir, name, (line) => ctx.err(`${line}\n`));
    return 0;
  },
};

const destroy: Command = {
  name: 'destroy',
  summary: 'Destroys a local cluster: stops its nodes and removes their state',
  flags: [nameFlag, stateFlag, { name: 'provisioner', kind: 'string', description: 'the provisioner', default: 'process' }],
  async run(ctx) {
    ctx.expectArgs(0);
    await destroyCluster(ctx.string('state')!, ctx.string('name')!, (line) => ctx.err(`${line}\n`));
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
    const info = readCluster(ctx.string('state')!, ctx.string('name')!);
    if (format !== 'table') {
      printDocuments(ctx, format, [info]);
      return 0;
    }
    ctx.out(`PROVISIONER   ${info.provisioner}\nNAME          ${info.name}\nNETWORK CIDR  ${info.cidr}\n\nNODES:\n\n`);
    ctx.out(tabulate([['NAME', 'TYPE', 'IP', 'PID'], ...info.nodes.map((n) => [n.name, n.type, n.address, String(n.pid)])]));
    return 0;
  },
};

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'A collection of commands for managing local clusters',
  subcommands: [create, destroy, show],
};
