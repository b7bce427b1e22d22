/**
 * Column alignment as Go's text/tabwriter does it with talosctl's settings (minwidth 0, padding 3, space padding):
 * cells are separated by tabs; every column is as wide as its widest cell plus three spaces, except the last.
 */
export function tabulate(lines: string[][]): string {
  const widths: number[] = [];
  for (const cells of lines) {
    cells.forEach((c, i) => {
      if (i < cells.length - 1) widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return lines.map((cells) => cells.map((c, i) => (i < cells.length - 1 ? c + ' '.repeat((widths[i] ?? 0) - [...c].length + 3) : c)).join('')).join('\n') + (lines.length ? '\n' : '');
}
