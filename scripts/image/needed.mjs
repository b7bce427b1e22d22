#!/usr/bin/env node
// Prints the shared libraries that ELF programs load, recursively, as "<soname> <path>" lines, looking them up in a
// tree of unpacked Debian packages (readelf reads any architecture's ELF files).
// usage: needed.mjs <sysroot> <triplet> <elf>...
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [sysroot, triplet, ...files] = process.argv.slice(2);
if (!sysroot || !triplet || files.length === 0) {
  process.stderr.write('usage: needed.mjs <sysroot> <triplet> <elf>...\n');
  process.exit(2);
}
const dirs = [`lib/${triplet}`, `usr/lib/${triplet}`, 'lib', 'usr/lib', 'lib64', 'usr/lib64'].map((d) => join(sysroot, d));

function dynamic(file) {
  const out = execFileSync('readelf', ['-dW', file], { encoding: 'utf8' });
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = [...out.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/g)].flatMap((m) => m[1].split(':'));
  return { needed, runpath };
}

const found = new Map();
const queue = files.map((f) => ({ file: f, origin: dirname(f) }));
const missing = [];
while (queue.length) {
  const { file } = queue.shift();
  const { needed, runpath } = dynamic(file);
  // a RUNPATH names a directory of the target system: look for it inside the sysroot
  const extra = runpath.filter((p) => !p.includes('$ORIGIN')).map((p) => join(sysroot, p));
  for (const soname of needed) {
    if (found.has(soname)) continue;
    const hit = [...extra, ...dirs].map((d) => join(d, soname)).find((p) => existsSync(p));
    if (!hit) {
      missing.push(`${soname} (needed by ${file})`);
      continue;
    }
    const real = realpathSync(hit);
    found.set(soname, real);
    queue.push({ file: real, origin: dirname(real) });
  }
}
if (missing.length) {
  process.stderr.write(`libraries not found in the packages: ${missing.join(', ')}\n`);
  process.exit(1);
}
for (const [soname, path] of [...found].sort()) process.stdout.write(`${soname} ${path}\n`);
