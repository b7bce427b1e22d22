/**
 * Booting the image of `_out/` under QEMU for the benchmark groups (scripts/qemu-run): where it is missing, the reason
 * a figure is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, clientOptionsFromContext, loadTalosconfig, quietIPServerNameWarning, resolveContext } from '../src/client/index.js';
import { delay } from './cluster.js';

const root = new URL('..', import.meta.url).pathname;
export type Arch = 'amd64' | 'arm64';
const QEMU: Record<Arch, string> = { amd64: 'qemu-system-x86_64', arm64: 'qemu-system-aarch64' };

/** Why the image of `arch` cannot be booted here, or undefined when it can. */
export function cannotBoot(arch: Arch): string | undefined {
  for (const f of [`vmlinuz-${arch}`, `initramfs-${arch}.xz`]) if (!existsSync(join(root, '_out', f))) return `_out/${f} is missing (make image ARCH=${arch})`;
  if (spawnSync(QEMU[arch], ['--version']).status !== 0) return `${QEMU[arch]} is not installed (make image-deps)`;
  return undefined;
}

export interface VM {
  client: Client;
  /** ms since the epoch when QEMU was started */
  started: number;
  stop(): Promise<void>;
}

/** Boots the kernel + initramfs of `arch` with a generated control-plane config served by URL; 2 GiB. */
export async function bootVM(arch: Arch): Promise<VM> {
  quietIPServerNameWarning();
  const work = mkdtempSync(join(tmpdir(), `bronze-bench-qemu-${arch}-`));
  const child: ChildProcess = spawn(join(root, 'scripts/qemu-run'), ['--arch', arch, '--boot', 'kernel', '--work', work, '--memory', '2048'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    await exited;
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const first = await Promise.race([
      new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
      exited.then(() => {
        throw new Error(`scripts/qemu-run ended: ${stderr}`);
      }),
    ]);
    // the boot counts from QEMU's start, not from the config qemu-run generates before it
    const info = JSON.parse(first) as { api: string; talosconfig: string; started: number };
    // the node is polled every 100 ms while it boots: the channel must not back off further between the attempts
    // (its default backoff grows to 5 s, which would measure the poller rather than the node)
    const ctx = resolveContext(await loadTalosconfig(info.talosconfig));
    const client = new Client({
      ...clientOptionsFromContext(ctx, { endpoints: [info.api] }),
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 100 },
    });
    return {
      client,
      started: info.started,
      stop: async () => {
        client.close();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Calls Version until it answers (polling every 100 ms); returns the seconds since QEMU started. */
export async function firstVersion(vm: VM, timeoutMs: number): Promise<number> {
  const deadline = vm.started + timeoutMs;
  for (;;) {
    try {
      await vm.client.machine.version({}, { timeout: 2000 });
      return (Date.now() - vm.started) / 1000;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`no Version answer within ${timeoutMs} ms`, { cause: e });
      await delay(100);
    }
  }
}

/**
 * Builds the boot floor of `arch` (scripts/image/floor: the same kernel, an initramfs of Node alone printing once) and
 * boots it `boots` times; returns the seconds from QEMU's start to Node's line on the console, or why it cannot.
 */
export async function floorBoots(arch: Arch, boots: number, timeoutMs: number): Promise<number[] | string> {
  const why = cannotBoot(arch);
  if (why) return why;
  const built = spawnSync(join(root, 'scripts/image/floor'), [arch], { encoding: 'utf8' });
  if (built.status !== 0) return `scripts/image/floor ${arch} failed: ${built.stderr.trim()}`;
  const out = join(root, '_out', 'floor', arch);
  const xs: number[] = [];
  for (let i = 0; i < boots; i++) {
    const work = mkdtempSync(join(tmpdir(), `bronze-bench-floor-${arch}-`));
    const child = spawn(join(root, 'scripts/qemu-run'), ['--arch', arch, '--boot', 'kernel', '--no-config', '--out', out, '--work', work, '--memory', '2048'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // counted from QEMU's start, as the boot is
      const first = await Promise.race([new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)), exited.then(() => '')]);
      if (!first) throw new Error('scripts/qemu-run ended before starting QEMU');
      const { started } = JSON.parse(first) as { started: number };
      for (;;) {
        let text = '';
        try {
          text = readFileSync(join(work, 'serial.log'), 'utf8');
        } catch {
          // not written yet
        }
        if (/^bronze-floor: /m.test(text)) {
          xs.push((Date.now() - started) / 1000);
          break;
        }
        if (Date.now() - started > timeoutMs) throw new Error(`the ${arch} floor printed nothing within ${timeoutMs} ms`);
        await delay(50);
      }
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already: the floor powers off by itself
      }
      await exited;
      rmSync(work, { recursive: true, force: true });
    }
  }
  return xs;
}
