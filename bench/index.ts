/**
 * `npm run bench [-- <group>...]`: runs benchmark groups (each a module bench/<group>.ts exporting `run()`), prints
 * one table, and records the figures in bench/results/latest.json.
 */
import { type Figure, record, table } from './results.js';

const groups: Record<string, () => Promise<{ run(): Promise<Figure[]> }>> = {
  cosi: () => import('./cosi.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((g) => !groups[g]);
if (unknown.length) {
  process.stderr.write(`unknown benchmark group(s): ${unknown.join(', ')} (known: ${Object.keys(groups).join(', ')})\n`);
  process.exit(2);
}
const all: Figure[] = [];
for (const name of wanted.length ? wanted : Object.keys(groups)) {
  process.stderr.write(`running ${name} ...\n`);
  const figures = await (await groups[name]!()).run();
  all.push(...figures);
  record(figures);
}
process.stdout.write(table(all));
