/**
 * Helpers for tests and fuzzing of the config code: a value of every field of a schema, and read-only access to
 * Talos's source (when the upstream mirror is on the machine) for conformance checks against its test data.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Schema } from './schema/dsl.js';

const formatSamples: Record<string, string> = {
  cidr: '10.0.0.0/24',
  ip: '10.0.0.1',
  ipOrCidr: '10.0.0.1/24',
  url: 'https://example.com',
  hostPort: '10.0.0.1:51820',
  base64: 'aGVsbG8=',
  pem: '',
};

/** A value for every field of a schema (first enum value, valid formats), for round-trip tests. */
export function sampleValue(s: Schema, key = 'x'): unknown {
  switch (s.k) {
    case 'str':
      if (s.enum) return s.enum.find((e) => e !== '') ?? '';
      if (s.format) return formatSamples[s.format];
      if (s.pattern) return 'aa:bb:cc:dd:ee:ff';
      return `${key}-value`;
    case 'bool':
      return true;
    case 'int':
      return Math.max(s.min ?? 1, Math.min(s.max ?? 42, 42));
    case 'num':
      return 1.5;
    case 'dur':
      return '10s';
    case 'size':
      return '10GiB';
    case 'any':
      return { apiVersion: 'v1', items: [1, 'two'], nested: { a: true } };
    case 'strOrList':
      return ['a', 'b'];
    case 'list':
      return [sampleValue(s.of, key)];
    case 'map':
      return { [`${key}-key`]: sampleValue(s.of, key) };
    case 'obj':
      return Object.fromEntries(Object.entries(s.fields).map(([k, f]) => [k, sampleValue(f, k)]));
  }
}

const mirror = '/work/.mirror/siderolabs+talos/repo';
export const UPSTREAM_TAG = 'v1.13.9';

/** Whether Talos's source is available to compare with. */
export function upstreamAvailable(): boolean {
  return existsSync(mirror);
}

/** A file of Talos's source at the compatibility tag, or undefined when the mirror is absent. */
export function upstreamFile(path: string): string | undefined {
  if (!upstreamAvailable()) return undefined;
  return execFileSync('git', ['-C', mirror, 'show', `${UPSTREAM_TAG}:${path}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Files under a directory of Talos's source at the compatibility tag. */
export function upstreamFiles(dir: string): string[] {
  if (!upstreamAvailable()) return [];
  return execFileSync('git', ['-C', mirror, 'ls-tree', '-r', '--name-only', UPSTREAM_TAG, dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
}
