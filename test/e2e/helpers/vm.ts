import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitForFile } from '../../helpers/wait-file.js';

export const root = new URL('../../..', import.meta.url).pathname;
export const out = join(root, '_out');
export const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export type Arch = 'amd64' | 'arm64';
export type Boot = 'kernel' | 'iso-bios' | 'iso-uefi';

/** TCG is slow, arm64's the slowest: the deadline from QEMU's start to the first answer. */
export const BOOT_DEADLINE_MS: Readonly<Record<Arch, number>> = { amd64: 240_000, arm64: 420_000 };

/**
 * Why a boot cannot be tried here (a missing artifact, QEMU or firmware), or undefined when it can. Under
 * `make test-e2e` (BRONZE_E2E=required) nothing is skipped: a missing piece fails the test with its reason.
 */
export function unavailable(arch: Arch, boot: Boot): string | undefined {
  if (process.env.BRONZE_E2E === 'required') return undefined;
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

/** A guest booted by scripts/qemu-run. */
export interface VM {
  /** host:port forwarded to the guest's :50000 */
  api: string;
  /** the generated talosconfig (when qemu-run generated the config) */
  talosconfig?: string;
  /** the generated (or given) machine config served to the guest */
  config?: string;
  serial: string;
  /** the guest's address on QEMU's user network */
  node: string;
  child: ChildProcess;
  /** Date.now() when QEMU was started */
  started: number;
  /** kills QEMU and its config responders (the whole process group) and waits for it */
  stop(): Promise<void>;
}

/** Starts scripts/qemu-run (`--arch`, `--boot`, `--work` and `extra` options) and resolves once it has printed where things are. */
export async function startVM(arch: Arch, boot: Boot, work: string, extra: string[] = []): Promise<VM> {
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
  const config = info.talosconfig ? join(work, 'controlplane.yaml') : undefined;
  return { ...info, config, child, started, stop };
}

/** The last characters of a guest's serial console. */
export const serialTail = (file: string, chars = 6000) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no serial log)');

/**
 * Calls `call` until it answers: after a failure, again once the guest has written more to its console (it is still
 * booting) or 2 s passed. Past `deadline` it throws with the console's tail.
 */
export async function untilAnswer<T>(vm: Pick<VM, 'serial'>, call: () => Promise<T>, deadline: number, what = 'no answer'): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} before the deadline (${(e as Error).message}); serial tail:\n${serialTail(vm.serial)}`, { cause: e });
      const seen = existsSync(vm.serial) ? readFileSync(vm.serial, 'utf8').length : 0;
      await waitForFile(dirname(vm.serial), vm.serial, (t) => t.length > seen, Math.min(2_000, left)).catch(() => undefined);
    }
  }
}

/** Resolves with the console text once `re` matches it; past `deadline` throws with the console's tail. */
export async function untilSerial(vm: Pick<VM, 'serial'>, re: RegExp, deadline: number): Promise<string> {
  try {
    return await waitForFile(dirname(vm.serial), vm.serial, (t) => re.test(t), Math.max(1, deadline - Date.now()));
  } catch {
    throw new Error(`the console never showed ${re}; serial tail:\n${serialTail(vm.serial)}`);
  }
}
