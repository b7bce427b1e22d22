import { execFileSync, spawnSync } from 'node:child_process';
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
