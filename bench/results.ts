import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured figure, in the format every benchmark group writes. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** the goal as text, e.g. `>= 500000`, or `reported` */
  goal: string;
  met: boolean | null;
  /** why the figure was not measured on this machine (value is then null) */
  skipped?: string;
}

/** A figure that could not be measured here, and why (a missing image, QEMU or root). */
export function skipped(name: string, unit: string, goal: `>= ${number}` | `<= ${number}` | undefined, why: string): Figure {
  return { name, value: null as unknown as number, unit, goal: goal ?? 'reported', met: null, skipped: why };
}

const dir = new URL('./results/', import.meta.url).pathname;

/** Builds a figure, judging it against a goal of the form `>= N` or `<= N` (or none). */
export function figure(name: string, value: number, unit: string, goal?: `>= ${number}` | `<= ${number}`): Figure {
  if (!goal) return { name, value: round(value), unit, goal: 'reported', met: null };
  const [op, n] = goal.split(' ') as ['>=' | '<=', string];
  const met = op === '>=' ? value >= Number(n) : value <= Number(n);
  return { name, value: round(value), unit, goal, met };
}

const round = (v: number) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000);

/** Merges figures into bench/results/latest.json (replacing same-named ones) and writes a dated copy. */
export function record(figures: Figure[]): void {
  mkdirSync(dir, { recursive: true });
  const latestPath = join(dir, 'latest.json');
  let existing: Figure[] = [];
  if (existsSync(latestPath)) {
    try {
      existing = JSON.parse(readFileSync(latestPath, 'utf8')) as Figure[];
    } catch (e) {
      throw new Error(`${latestPath}: not JSON (${(e as Error).message}); fix or remove it`, { cause: e });
    }
    if (!Array.isArray(existing)) throw new Error(`${latestPath}: not a JSON array of figures; fix or remove it`);
  }
  const names = new Set(figures.map((f) => f.name));
  const merged = [...existing.filter((f) => !names.has(f.name)), ...figures].sort((a, b) => a.name.localeCompare(b.name));
  const text = `${JSON.stringify(merged, null, 2)}\n`;
  writeFileSync(latestPath, text);
  writeFileSync(join(dir, `${new Date().toISOString().slice(0, 10)}.json`), text);
}

/** Prints figures as a table. */
export function table(figures: Figure[]): string {
  const rows = [['NAME', 'VALUE', 'UNIT', 'GOAL', 'MET'], ...figures.map((f) => [f.name, f.skipped ? '-' : String(f.value), f.unit, f.goal, f.skipped ? `skipped: ${f.skipped}` : f.met === null ? '-' : f.met ? 'yes' : 'NO'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n')}\n`;
}

/** The median of repeated measurements. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (nearest rank) of measurements. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
