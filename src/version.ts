import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:process';

/** Build information of this Bronze build: the release tag, the commit and when it was built. */
export interface BuildInfo {
  name: string;
  tag: string;
  sha: string;
  built: string;
  runtime: string;
  os: string;
  arch: string;
}

/** The Talos release whose API and config format Bronze speaks. */
export const TALOS_COMPAT_VERSION = 'v1.13.9';

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

function readJSON(url: URL): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

let cached: BuildInfo | undefined;

/** Reads the package version and, when `make build` wrote it, dist/build-info.json. */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  // this file sits at src/version.ts or dist/version.js: the package root is one level up
  const pkg = readJSON(new URL('../package.json', import.meta.url));
  const info = readJSON(new URL('../dist/build-info.json', import.meta.url));
  cached = {
    name: 'Bronze',
    tag: `v${String(pkg?.version ?? '0.0.0')}`,
    sha: typeof info?.sha === 'string' ? info.sha : 'unknown',
    built: typeof info?.built === 'string' ? info.built : '',
    runtime: `node ${process.version}`,
    os: platform,
    arch: goArch[arch] ?? arch,
  };
  return cached;
}
