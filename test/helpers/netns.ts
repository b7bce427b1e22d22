import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why network-namespace tests cannot run here, or undefined when they can (root, iproute2, namespaces allowed). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespace tests need root (CI runs as root)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (`ip`) is not installed';
  const probe = `bronze-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create network namespaces: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** Runs `ip` inside a namespace. */
export function nsip(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
}

/**
 * Waits until a namespace has a route to `dst` and returns it as `ip -j` shows it: read once `ip monitor` is running,
 * on each route change it reports, and every half second besides (a route added between the first read and the
 * monitor's subscription is reported by no one).
 */
export async function waitForRoute<T = { dst: string; gateway?: string; dev: string }>(ns: string, dst: string, timeoutMs: number): Promise<T[]> {
  const monitor = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return await new Promise<T[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(again);
        reject(new Error(`no route to ${dst} in namespace ${ns} after ${timeoutMs} ms`));
      }, timeoutMs);
      const again = setInterval(() => check(), 500);
      const check = () => {
        const routes = JSON.parse(nsip(ns, '-j', 'route', 'show', dst)) as T[];
        if (routes.length === 0) return;
        clearTimeout(timer);
        clearInterval(again);
        resolve(routes);
      };
      monitor.once('error', (e) => {
        clearTimeout(timer);
        clearInterval(again);
        reject(e);
      });
      monitor.stdout.on('data', check);
      monitor.once('spawn', check);
    });
  } finally {
    monitor.kill();
  }
}

/** Two namespaces joined by a veth pair, torn down by `destroy`. */
export class VethPair {
  readonly a: string;
  readonly b: string;

  constructor(
    readonly name: string,
    readonly ifA = 'veth-a',
    readonly ifB = 'veth-b',
  ) {
    this.a = `${name}-a`;
    this.b = `${name}-b`;
    this.destroy();
    ip('netns', 'add', this.a);
    ip('netns', 'add', this.b);
    ip('link', 'add', `${name.slice(0, 6)}x`, 'type', 'veth', 'peer', 'name', `${name.slice(0, 6)}y`);
    ip('link', 'set', `${name.slice(0, 6)}x`, 'netns', this.a, 'name', ifA);
    ip('link', 'set', `${name.slice(0, 6)}y`, 'netns', this.b, 'name', ifB);
    nsip(this.a, 'link', 'set', 'lo', 'up');
    nsip(this.b, 'link', 'set', 'lo', 'up');
    nsip(this.a, 'link', 'set', ifA, 'up');
    nsip(this.b, 'link', 'set', ifB, 'up');
  }

  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.a]);
    spawnSync('ip', ['netns', 'del', this.b]);
  }
}

const repo = new URL('../..', import.meta.url).pathname;

/**
 * Runs a TypeScript module body inside a namespace (with tsx) and returns what it printed, parsed as JSON. The body
 * may import from the repository with `@/` paths (`import { State } from '@/src/cosi/state.ts'`); pino is at `@/pino`.
 */
export function runInNamespace(ns: string, dir: string, body: string, timeoutMs = 40_000): unknown {
  const script = join(dir, `ns-${Math.random().toString(36).slice(2)}.mts`);
  const code = body.replace(/from '@\/pino'/g, `from ${JSON.stringify(join(repo, 'node_modules/pino/pino.js'))}`).replace(/from '@\/([^']+)'/g, (_m, p: string) => `from ${JSON.stringify(join(repo, p))}`);
  writeFileSync(script, code);
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script], { cwd: repo, encoding: 'utf8', timeout: timeoutMs });
  return out.trim() === '' ? undefined : JSON.parse(out);
}
