import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { loadClientFromTalosconfig, quietIPServerNameWarning } from '../../src/client/index.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { waitForFile } from '../helpers/wait-file.js';

quietIPServerNameWarning();
const root = new URL('../..', import.meta.url).pathname;
const out = join(root, '_out');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
/** TCG is slow, arm64's the slowest: the deadline from QEMU's start to the first answer */
const BOOT_DEADLINE_MS = { amd64: 300_000, arm64: 540_000 } as const;

type Arch = 'amd64' | 'arm64';
type Boot = 'kernel' | 'iso-bios' | 'iso-uefi';

/** Why a boot cannot be tried here, or undefined when it can. */
function unavailable(arch: Arch, boot: Boot): string | undefined {
  // booting under TCG takes minutes: the suite runs these only when asked
  if (process.env.BRONZE_IMAGE_TESTS !== '1') return 'set BRONZE_IMAGE_TESTS=1 to boot the image under QEMU (minutes each under TCG)';
  const files = boot === 'kernel' ? [`vmlinuz-${arch}`, `initramfs-${arch}.xz`] : [`metal-${arch}.iso`];
  const missing = files.filter((f) => !existsSync(join(out, f)));
  if (missing.length) return `_out/${missing.join(', _out/')} missing: run \`make image ARCH=${arch}\` first`;
  const qemu = arch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  if (spawnSync(qemu, ['--version']).status !== 0) return `${qemu} is not installed (make image-deps)`;
  if (boot === 'iso-uefi') {
    const fw = arch === 'amd64' ? '/usr/share/ovmf/OVMF.fd' : '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd';
    if (!existsSync(fw)) return `${fw} is missing (make image-deps)`;
  }
  return undefined;
}

interface Running {
  api: string;
  talosconfig?: string;
  serial: string;
  node: string;
  child: ChildProcess;
  started: number;
  stop(): Promise<void>;
}

/** Starts scripts/qemu-run and resolves once it has printed where things are. */
async function start(arch: Arch, boot: Boot, work: string, extra: string[] = []): Promise<Running> {
  const started = Date.now();
  // a process group of its own: stopping it ends QEMU and the config responders too
  const child = spawn(join(root, 'scripts/qemu-run'), ['--arch', arch, '--boot', boot, '--work', work, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then(() => {
      throw new Error(`scripts/qemu-run ended: ${stderr}`);
    }),
  ]);
  const info = JSON.parse(first) as { api: string; talosconfig?: string; serial: string; node: string };
  return { ...info, child, started, stop };
}

/** Calls `call` until it answers: after a failure, again once the node has logged more (it is still booting). */
async function untilAnswer<T>(r: Running, call: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer before the deadline; serial tail:\n${tail(r.serial)}`, { cause: e });
      const seen = existsSync(r.serial) ? readFileSync(r.serial, 'utf8').length : 0;
      await waitForFile(dirname(r.serial), r.serial, (t) => t.length > seen, Math.min(10_000, left)).catch(() => undefined);
    }
  }
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : '(no serial log)');

describe('the image under QEMU (TCG)', () => {
  for (const arch of ['amd64', 'arm64'] as const) {
    it(`${arch}: boots with talos.config from the config server and answers Version over mTLS`, { skip: unavailable(arch, 'kernel'), timeout: BOOT_DEADLINE_MS[arch] + 60_000 }, async (t: TestContext) => {
      const work = mkdtempSync(join(tmpdir(), `bronze-qemu-${arch}-`));
      const r = await start(arch, 'kernel', work);
      try {
        assert.ok(r.talosconfig, 'qemu-run generated a talosconfig');
        const client = await loadClientFromTalosconfig({ talosconfig: r.talosconfig, endpoints: [r.api] });
        try {
          const res = await untilAnswer(r, () => client.machine.version({}, { timeout: 15_000 }), r.started + BOOT_DEADLINE_MS[arch]);
          const seconds = (Date.now() - r.started) / 1000;
          t.diagnostic(`${arch}: QEMU start to first Version answer: ${seconds.toFixed(1)} s`);
          const v = res.messages[0];
          assert.equal(v?.version?.tag, `v${version}`);
          assert.equal(v?.version?.arch, arch);
          assert.equal(v?.platform?.name, 'metal');
          assert.equal(v?.features?.rbac, true);
        } finally {
          client.close();
        }
        // the machine config came over the guestfwd config server
        assert.match(readFileSync(join(work, 'config-http.log'), 'utf8'), /GET \/config\.yaml 200/);
        assert.match(readFileSync(r.serial, 'utf8'), /\[bronze-init\] \[\s*[\d.]+\] started machined/);
      } finally {
        await r.stop();
        rmSync(work, { recursive: true, force: true });
      }
    });
  }

  const isoBoots: [Arch, Boot][] = [
    ['amd64', 'iso-uefi'],
    ['amd64', 'iso-bios'],
    ['arm64', 'iso-uefi'],
  ];
  for (const [arch, boot] of isoBoots) {
    it(`${arch} ${boot}: the ISO boots to maintenance mode, tells how to apply a config and answers Version without a client certificate`, { skip: unavailable(arch, boot), timeout: BOOT_DEADLINE_MS[arch] + 60_000 }, async (t: TestContext) => {
      const work = mkdtempSync(join(tmpdir(), `bronze-qemu-${arch}-`));
      const r = await start(arch, boot, work);
      try {
        const deadline = r.started + BOOT_DEADLINE_MS[arch];
        // the whole line: the console may be written in pieces
        const serial = await waitForFile(work, r.serial, (s) => /apply one with: [^\n]*\n/.test(s), deadline - Date.now());
        assert.match(serial, /apply one with: bronzectl apply-config --insecure --nodes 10\.0\.2\.15 --file <config\.yaml>/);
        const res = await untilAnswer(
          r,
          async () => {
            const v = await bronzectl(['-e', r.api, 'version', '--insecure'], { HOME: work });
            if (v.code !== 0) throw new Error(v.stderr);
            return v.stdout;
          },
          deadline,
        );
        t.diagnostic(`${arch} ${boot}: QEMU start to first Version answer: ${((Date.now() - r.started) / 1000).toFixed(1)} s`);
        assert.match(res, new RegExp(`Tag:\\s+v${version.replaceAll('.', '\\.')}`));
      } finally {
        await r.stop();
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
