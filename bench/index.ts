/**
 * `npm run bench [-- <group>...]`: runs benchmark groups, prints one table of their figures, and merges the figures
 * into bench/results/latest.json (plus a dated copy). A group is a module bench/<group>.ts exporting
 * `run(): Promise<Figure[]>`; every such file is a group, so adding one needs no change here.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, record, table } from './results.js';

interface Group {
  run(): Promise<Figure[]>;
}

/** Files in bench/ that are not groups. */
const NOT_GROUPS = new Set(['index', 'results', 'fuzz', 'cluster', 'qemu']);

const dir = dirname(fileURLToPath(import.meta.url));
const groups = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .filter((g) => !NOT_GROUPS.has(g))
  .sort();

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((g) => !groups.includes(g));
if (unknown.length) {
  process.stderr.write(`unknown benchmark group(s): ${unknown.join(', ')} (known: ${groups.join(', ')})\n`);
  process.exit(2);
}
const all: Figure[] = [];
for (const name of wanted.length ? wanted : groups) {
  process.stderr.write(`running ${name} ...\n`);
  const group = (await import(`./${name}.js`)) as Partial<Group>;
  if (typeof group.run !== 'function') {
    process.stderr.write(`bench/${name}.ts exports no run()\n`);
    process.exit(2);
  }
  const figures = await group.run();
  all.push(...figures);
  record(figures);
}
process.stdout.write(table(all));
