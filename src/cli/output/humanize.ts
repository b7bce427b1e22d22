const SI = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Bytes in SI units as go-humanize prints them (talosctl uses it): `83 MB`, `1.2 kB`, `5 B`. */
export function humanBytes(n: number | bigint): string {
  const s = Number(n);
  if (s < 10) return `${s} B`;
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const val = Math.floor((s / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${SI[e]}`;
}

/** Go's os.FileMode.String(): type letters (or `-`), then the nine permission bits. */
export function goFileMode(mode: number): string {
  const types = 'dalTLDpSugct?';
  let out = '';
  for (let i = 0; i < types.length; i++) if ((mode >>> 0) & (2 ** (31 - i))) out += types[i];
  if (out === '') out = '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? rwx[i] : '-';
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** A timestamp as `ls` in talosctl shows it: `Jan _2 15:04:05` within six months, else `Jan _2 2006 15:04`. */
export function lsTime(d: Date, now = new Date()): string {
  const day = String(d.getDate()).padStart(2, ' ');
  const recent = now.getTime() - d.getTime() < 182 * 24 * 3600 * 1000;
  return recent
    ? `${MONTHS[d.getMonth()]} ${day} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`
    : `${MONTHS[d.getMonth()]} ${day} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

/** Columns as the columnize package lays them out: cells trimmed, left-aligned, glued with two spaces. */
export function columnize(lines: string[][]): string {
  const cells = lines.map((l) => l.map((c) => c.trim()));
  const widths: number[] = [];
  for (const l of cells) l.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((l) => l.map((c, i) => (i < l.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd()).join('\n') + '\n';
}
