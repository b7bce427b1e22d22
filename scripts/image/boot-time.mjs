#!/usr/bin/env node
// Measures how long the image of _out/ takes from QEMU's start to the first answered mTLS Version call, and the guest
// uptime of the milestones on its serial console. Boots through scripts/qemu-run (kernel boot with a generated
// config), asks for the version every 100 ms in this process (bronzectl's own code from dist/), then stops QEMU and
// prints one JSON line: {"arch", "wall", "load", "milestones": {name: guest seconds}, "seenAt": {name: seconds after
// QEMU's start when the line was seen on the console}}.
//
// usage: scripts/image/boot-time.mjs [--arch amd64|arm64] [--out DIR] [--work DIR] [--timeout S] [--append ARGS]
// Run it under the VM lock (flock /tmp/bronze-vm.lock ...): timings mean something only on a quiet host.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const { values: args } = parseArgs({
  options: {
    arch: { type: 'string', default: 'amd64' },
    work: { type: 'string' },
    timeout: { type: 'string', default: '240' },
    append: { type: 'string', default: '' },
    out: { type: 'string' },
  },
});
const work = args.work ? resolve(args.work) : mkdtempSync(join(tmpdir(), 'bronze-boot-time-'));
const { run } = await import(join(root, 'dist/cli/main.js'));

// the console lines that mark the way to the API, first match wins (guest uptime in seconds)
const milestones = [
  ['init', /Run \/init as init process/],
  ['rootMounted', /root filesystem mounted/],
  ['machinedFirstLine', /^\[bronze\] /],
  ['apidStarted', /service\[apid\]\(Running\)/],
  ['machinedAPI', /machined API serving/],
  ['address', /assigned address .*address=10\.0\.2\.15/],
  ['configAcquired', /machine config acquired/],
  ['apidCerts', /issued apid certificates/],
];

function readMilestones(serial) {
  let text = '';
  try {
    text = readFileSync(serial, 'utf8');
  } catch {
    return {};
  }
  const found = {};
  for (const line of text.split(/\r?\n/)) {
    const t = /\[\s*(\d+\.\d+)\]/.exec(line);
    if (!t) continue;
    for (const [name, re] of milestones) if (!(name in found) && re.test(line)) found[name] = Number(t[1]);
  }
  return found;
}

const load = loadavg()[0];
const qemu = spawn(join(root, 'scripts/qemu-run'), ['--arch', args.arch, '--boot', 'kernel', '--work', work, ...(args.append ? ['--append', args.append] : []), ...(args.out ? ['--out', resolve(args.out)] : [])], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const info = await new Promise((res, rej) => {
  let buf = '';
  qemu.stdout.on('data', (d) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl >= 0) res(JSON.parse(buf.slice(0, nl)));
  });
  qemu.on('exit', (code) => rej(new Error(`qemu-run ended (${code})`)));
});
const start = performance.now();
const sink = () => {
  const s = new PassThrough();
  s.resume();
  return s;
};
const deadline = start + Number(args.timeout) * 1000;
let wall;
let attempts = 0;
// when (seconds since QEMU started) each milestone first showed on the console, to set the guest's clock against ours
const seenAt = {};
const watchConsole = () => {
  const t = Number(((performance.now() - start) / 1000).toFixed(1));
  for (const name of Object.keys(readMilestones(info.serial))) seenAt[name] ??= t;
};
const consoleTimer = setInterval(watchConsole, 200);
while (performance.now() < deadline) {
  attempts++;
  const io = { stdout: sink(), stderr: sink(), stdin: process.stdin, env: process.env, signal: AbortSignal.timeout(5000) };
  // a connection QEMU accepted for a guest that does not listen yet can hang: an attempt gets 3 s, then the next starts
  let timer;
  const giveUp = new Promise((r) => {
    timer = setTimeout(() => r(1), 3000);
  });
  const code = await Promise.race([run(['--talosconfig', info.talosconfig, '-e', info.api, '-n', info.node, 'version'], io).catch(() => 1), giveUp]);
  clearTimeout(timer);
  if (code === 0) {
    wall = (performance.now() - start) / 1000;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
clearInterval(consoleTimer);
watchConsole();
qemu.kill('SIGTERM');
await new Promise((r) => qemu.once('exit', r));
const result = { arch: args.arch, wall: wall === undefined ? null : Number(wall.toFixed(1)), attempts, load: [load, loadavg()[0]].map((l) => Number(l.toFixed(2))), milestones: readMilestones(info.serial), seenAt, serial: info.serial };
process.stdout.write(`${JSON.stringify(result)}\n`);
if (!args.work) rmSync(work, { recursive: true, force: true });
process.exit(wall === undefined ? 1 : 0);
