/**
 * Booting the image of `_out/` under QEMU for the benchmark groups (scripts/qemu-run): where it is missing, the reason
 * a figure is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ContainerDriver } from '../src/api/gen/common/common.js';
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
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  // QEMU runs detached: an interrupted benchmark still takes its VM down
  const onSignal = () => {
    kill();
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    kill();
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

/** The steps of a boot, in seconds since QEMU started, as the node's own logs and /proc/uptime tell them. */
export interface BootTimeline {
  /** the kernel's start (its uptime 0): QEMU, the firmware, loading and decompressing the kernel */
  kernel: number;
  /** machined's exec by PID 1, then the parts of its start: before Node's main(), Node's bootstrap, our code */
  machinedExec?: number;
  machinedStart?: { preOriginMs: number; nodeBootstrapMs: number; codeLoadedMs: number };
  /** machined's first log line */
  machinedStarting?: number;
  configAcquired?: number;
  apidCertificates?: number;
  apidServing?: number;
  /** when the first Version was answered (the caller's figure) */
  version: number;
}

const SERVICE_LOG_STEPS: [service: string, msg: string, step: keyof BootTimeline][] = [
  ['machined', 'machined starting', 'machinedStarting'],
  ['machined', 'machine config acquired', 'configAcquired'],
  ['machined', 'issued apid certificates', 'apidCertificates'],
  ['apid', 'apid serving', 'apidServing'],
];

/**
 * A service log line as a record: apid's are pino's JSON; machined's are Talos's text, `2006/01/02 15:04:05.000000
 * [talos] <message> {fields}` in UTC.
 */
function logRecord(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    // machined's format
  }
  const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\d* \[talos\] (.*?)(?: (\{.*\}))?$/.exec(line);
  if (!m) return undefined;
  let fields: Record<string, unknown> = {};
  try {
    fields = m[9] ? (JSON.parse(m[9]) as Record<string, unknown>) : {};
  } catch {
    // a message that ends in braces of its own
  }
  const [y, mo, d, h, mi, sec, ms] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
  return { ...fields, msg: m[8], time: Date.UTC(y, mo - 1, d, h, mi, sec, ms) };
}

/**
 * Where the boot of a VM went, read once it answered Version (`versionS` seconds after QEMU started): the guest's
 * boot time from /proc/uptime, then the first time each step shows in machined's and apid's logs.
 */
export async function bootTimeline(vm: VM, versionS: number): Promise<BootTimeline> {
  const call = { timeout: 10_000 };
  let uptime = '';
  for await (const d of vm.client.machine.read({ path: '/proc/uptime' }, call)) uptime += Buffer.from(d.bytes).toString();
  const bootEpoch = Date.now() - Number(uptime.split(' ')[0]) * 1000;
  const since = (epochMs: number) => (epochMs - vm.started) / 1000;
  const t: BootTimeline = { kernel: since(bootEpoch), version: versionS };
  for (const service of new Set(SERVICE_LOG_STEPS.map(([s]) => s))) {
    let text = '';
    for await (const d of vm.client.machine.logs({ namespace: 'system', driver: ContainerDriver.CONTAINERD, id: service, follow: false, tailLines: -1 }, call)) text += Buffer.from(d.bytes).toString();
    for (const line of text.split('\n')) {
      const r = logRecord(line);
      if (r === undefined) continue;
      const step = SERVICE_LOG_STEPS.find(([s, msg]) => s === service && msg === r.msg)?.[2];
      if (step === undefined || t[step] !== undefined || typeof r.time !== 'number') continue;
      (t as unknown as Record<string, number>)[step] = since(r.time);
      if (step === 'machinedStarting' && typeof r.codeLoadedMs === 'number') {
        const m = { preOriginMs: Number(r.preOriginMs ?? 0), nodeBootstrapMs: Number(r.nodeBootstrapMs ?? 0), codeLoadedMs: r.codeLoadedMs };
        t.machinedStart = m;
        // the line is written right after the code is loaded (the modules and the volume take milliseconds)
        t.machinedExec = since(r.time) - (m.preOriginMs + m.codeLoadedMs) / 1000;
      }
    }
  }
  return t;
}

/** One line for a boot's timeline: each step's second since QEMU started. */
export function formatTimeline(t: BootTimeline): string {
  const s = (x: number | undefined) => (x === undefined ? '?' : x.toFixed(1));
  const m = t.machinedStart;
  const parts = m ? ` (before main() ${(m.preOriginMs / 1000).toFixed(1)}, Node bootstrap ${(m.nodeBootstrapMs / 1000).toFixed(1)}, code ${((m.codeLoadedMs - m.nodeBootstrapMs) / 1000).toFixed(1)})` : '';
  return `kernel ${s(t.kernel)}, machined exec ${s(t.machinedExec)}, machined up ${s(t.machinedStarting)}${parts}, config ${s(t.configAcquired)}, apid certificates ${s(t.apidCertificates)}, apid serving ${s(t.apidServing)}, Version ${s(t.version)}`;
}
