#!/usr/bin/env node
// Prints the kernel modules to load, dependencies first, as absolute paths on the target (one a line), from a
// kernel's modules.dep. Modules the kernel does not have as modules (built in, or absent) are listed as comments.
// usage: modules.mjs <modules dir in the sysroot> <modules dir on the target> <name>...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [dir, target, ...names] = process.argv.slice(2);
if (!dir || !target) {
  process.stderr.write('usage: modules.mjs <modules dir> <target dir> <name>...\n');
  process.exit(2);
}
const norm = (n) => n.replace(/-/g, '_');
const deps = new Map();
const byName = new Map();
for (const line of readFileSync(`${dir}/modules.dep`, 'utf8').split('\n')) {
  const m = /^([^:]+):\s*(.*)$/.exec(line);
  if (!m) continue;
  deps.set(m[1], m[2].split(/\s+/).filter(Boolean));
  byName.set(norm(basename(m[1]).replace(/\.ko(\.[a-z]+)?$/, '')), m[1]);
}
const builtin = new Set(
  readFileSync(`${dir}/modules.builtin`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((p) => norm(basename(p).replace(/\.ko$/, ''))),
);
const order = [];
const seen = new Set();
const visit = (path) => {
  if (seen.has(path)) return;
  seen.add(path);
  for (const d of deps.get(path) ?? []) visit(d);
  order.push(path);
};
const notes = [];
for (const name of names) {
  const path = byName.get(norm(name));
  if (path) visit(path);
  else notes.push(`# ${name}: ${builtin.has(norm(name)) ? 'built into the kernel' : 'not in this kernel'}`);
}
process.stdout.write([...notes, ...order.map((p) => `${target}/${p}`)].join('\n') + '\n');
