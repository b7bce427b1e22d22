#!/usr/bin/env node
// Runs node:test over the project's test files. Node 20's --test takes no globs, so the files are
// gathered here. Usage: run-tests.mjs unit|integration|e2e|all [filter...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [kind = 'unit', ...filters] = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const dirs = kind === 'unit' ? ['src'] : kind === 'integration' ? ['test'] : kind === 'e2e' ? ['test/e2e'] : ['src', 'test'];
let files = dirs.flatMap((d) => walk(join(root, d), [])).sort();
if (kind === 'integration') files = files.filter((f) => !f.startsWith('test/e2e/'));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  process.stderr.write(`no test files for ${kind} ${filters.join(' ')}\n`);
  process.exit(1);
}
// the e2e tests boot VMs under TCG: one at a time on the machine's cores
const concurrency = process.env.TEST_CONCURRENCY ?? (kind === 'e2e' ? '1' : '2');
const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${kind === 'e2e' ? 1_200_000 : 300_000}`, ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
