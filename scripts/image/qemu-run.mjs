#!/usr/bin/env node
// Boots a Bronze image of _out/ under QEMU with TCG: user networking with `restrict=on` (the guest reaches nothing on
// the host but the config server), a guestfwd serving the machine config at http://10.0.2.100/config.yaml, and a
// hostfwd from 127.0.0.1:<port> to the node's API (:50000). Without --config or --no-config it generates a
// control-plane config and talosconfig with `bronzectl gen config` in the work directory.
//
// Prints one JSON line on stdout once QEMU runs: {"api", "talosconfig", "serial", "configURL", "node", "pid", "disks"};
// then waits for QEMU, and stops it on SIGINT/SIGTERM. With --disk the guest's reboots restart it in place (QEMU goes
// on running); without, QEMU ends when the guest reboots.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const usage = `usage: scripts/qemu-run [options]
  --arch amd64|arm64        the image to boot (default amd64)
  --boot kernel|iso-bios|iso-uefi
                            kernel: -kernel/-initrd with talos.config= (default); iso-*: the ISO through GRUB,
                            BIOS (SeaBIOS, amd64 only) or UEFI (OVMF / QEMU_EFI), which boots to maintenance mode
  --out DIR                 where the image is (default _out)
  --work DIR                config, talosconfig and the serial log (default <out>/run-<arch>)
  --config FILE             the machine config to serve (default: generated)
  --no-config               no talos.config= (maintenance mode)
  --reuse                   keep what the work directory has from an earlier run: its generated config and
                            talosconfig (generated only when missing), and append to its serial log
  --disk FILE               attach a raw disk image as a virtio-blk disk (repeatable; vda, vdb, ... in order); the
                            guest then restarts in place when it reboots instead of ending QEMU
  --api-port N              host port forwarded to the node's :50000 (default: a free one)
  --memory MiB              (default 2048)
  --smp N                   (default 2)
  --append ARGS             more kernel arguments (kernel boot)
`;

const GUEST_IP = '10.0.2.15';
const CONFIG_ADDR = '10.0.2.100';

function fail(msg) {
  process.stderr.write(`qemu-run: ${msg}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      arch: { type: 'string', default: 'amd64' },
      boot: { type: 'string', default: 'kernel' },
      out: { type: 'string', default: join(root, '_out') },
      work: { type: 'string' },
      config: { type: 'string' },
      'no-config': { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      disk: { type: 'string', multiple: true, default: [] },
      'api-port': { type: 'string' },
      memory: { type: 'string', default: '2048' },
      smp: { type: 'string', default: '2' },
      append: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (e) {
  fail(`${e.message}\n${usage}`);
}
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const arch = args.arch;
if (!['amd64', 'arm64'].includes(arch)) fail(`unknown --arch ${arch} (amd64 or arm64)`);
if (!['kernel', 'iso-bios', 'iso-uefi'].includes(args.boot)) fail(`unknown --boot ${args.boot} (kernel, iso-bios or iso-uefi)`);
if (args.boot === 'iso-bios' && arch !== 'amd64') fail('--boot iso-bios is for amd64 only (arm64 boots through UEFI)');
const out = resolve(args.out);
const work = resolve(args.work ?? join(out, `run-${arch}`));
mkdirSync(work, { recursive: true });

const artifacts = args.boot === 'kernel' ? [join(out, `vmlinuz-${arch}`), join(out, `initramfs-${arch}.xz`)] : [join(out, `metal-${arch}.iso`)];
for (const a of artifacts) if (!existsSync(a)) fail(`${a} is missing: run \`make image ARCH=${arch}\``);
const disks = args.disk.map((d) => resolve(d));
for (const d of disks) if (!existsSync(d)) fail(`--disk ${d}: no such file (make one with truncate -s 320M ${d} && mkfs.xfs -L STATE ${d})`);
const qemu = arch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
if (spawnSync(qemu, ['--version']).status !== 0) fail(`${qemu} is missing: run \`make image-deps\``);

/** The UEFI firmware of Debian's ovmf / qemu-efi-aarch64 packages. */
function firmware() {
  const list = arch === 'amd64' ? ['/usr/share/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd'] : ['/usr/share/qemu-efi-aarch64/QEMU_EFI.fd', '/usr/share/AAVMF/AAVMF_CODE.fd'];
  const hit = list.find((f) => existsSync(f));
  if (!hit) fail(`no UEFI firmware (looked for ${list.join(', ')}): run \`make image-deps\``);
  return hit;
}

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// the machine config and the talosconfig to reach the node with
let config = args.config ? resolve(args.config) : undefined;
const talosconfig = join(work, 'talosconfig');
const reuseGenerated = args.reuse && !args.config && !args['no-config'] && existsSync(join(work, 'controlplane.yaml')) && existsSync(talosconfig);
if (reuseGenerated) config = join(work, 'controlplane.yaml');
if (!config && !args['no-config']) {
  for (const f of ['controlplane.yaml', 'worker.yaml', 'talosconfig']) rmSync(join(work, f), { force: true });
  const gen = spawnSync(join(root, 'bin/bronzectl'), ['gen', 'config', 'bronze', `https://${GUEST_IP}:6443`, '-o', work, '--with-docs=false', '--with-examples=false'], { encoding: 'utf8' });
  if (gen.status !== 0) fail(`bronzectl gen config failed: ${gen.stderr}`);
  config = join(work, 'controlplane.yaml');
}
if (config && !existsSync(config)) fail(`--config ${config}: no such file`);

const apiPort = args['api-port'] ? Number(args['api-port']) : await freePort();
if (!Number.isInteger(apiPort) || apiPort <= 0 || apiPort > 65535) fail(`--api-port ${args['api-port']} is not a port`);
const serial = join(work, 'serial.log');
if (!args.reuse) rmSync(serial, { force: true });
const configURL = `http://${CONFIG_ADDR}/config.yaml`;
// QEMU's option syntax doubles commas inside a value
const q = (s) => s.replaceAll(',', ',,');
// the provisioner's config server (built into dist/ by `make build`, as bin/bronzectl is)
const configServer = join(root, 'dist/provision/qemu-config-http.js');
if (config && !existsSync(configServer)) fail(`${configServer} is missing: run \`make build\``);
const responder = `${process.execPath} ${configServer} ${config ?? ''} ${join(work, 'config-http.log')}`;
const netdev = [
  'user,id=n0,restrict=on',
  `hostfwd=tcp:127.0.0.1:${apiPort}-${GUEST_IP}:50000`,
  ...(config ? [`guestfwd=tcp:${CONFIG_ADDR}:80-cmd:${q(responder)}`] : []),
].join(',');

const tty = arch === 'amd64' ? 'ttyS0' : 'ttyAMA0';
// the console is appended to: a guest restarted in place, or a --reuse run, goes on in the same log
const qargs = ['-accel', 'tcg', '-m', args.memory, '-smp', args.smp, '-display', 'none', '-chardev', `file,id=con0,path=${q(serial)},append=on`, '-serial', 'chardev:con0', '-monitor', 'none', '-netdev', netdev, '-device', 'virtio-net-pci,netdev=n0', '-device', 'virtio-rng-pci'];
// a guest without disks has nothing to come back to: its reboot ends QEMU
if (disks.length === 0) qargs.push('-no-reboot');
disks.forEach((d, i) => qargs.push('-drive', `if=none,id=disk${i},format=raw,file=${q(d)}`, '-device', `virtio-blk-pci,drive=disk${i}`));
if (arch === 'amd64') qargs.unshift('-machine', 'q35', '-cpu', 'max');
else qargs.unshift('-machine', 'virt', '-cpu', 'max');
if (args.boot === 'kernel') {
  // cryptomgr.notests as the ISO's boot entry has it (scripts/image/lib.sh): no crypto self-tests, as Talos's kernels
  const cmdline = ['talos.platform=metal', 'cryptomgr.notests', `console=${tty}`, 'panic=0', ...(config ? [`talos.config=${configURL}`] : []), args.append].filter(Boolean).join(' ');
  qargs.push('-kernel', artifacts[0], '-initrd', artifacts[1], '-append', cmdline);
} else {
  if (args.boot === 'iso-uefi') qargs.push('-bios', firmware());
  if (arch === 'amd64') qargs.push('-cdrom', artifacts[0]);
  else qargs.push('-drive', `if=none,id=cd,format=raw,readonly=on,media=cdrom,file=${q(artifacts[0])}`, '-device', 'virtio-scsi-pci', '-device', 'scsi-cd,drive=cd');
}

// when QEMU started (ms since the epoch): boot times count from here, not from this script's own work before it
const started = Date.now();
const child = spawn(qemu, qargs, { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write(
  `${JSON.stringify({ api: `127.0.0.1:${apiPort}`, talosconfig: config && !args.config ? talosconfig : undefined, serial, configURL: config ? configURL : undefined, node: GUEST_IP, pid: child.pid, disks, started })}\n`,
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill('SIGTERM'));
child.on('error', (e) => fail(`starting ${qemu}: ${e.message}`));
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 128 : 1)));
