/**
 * The subset of Kubernetes JSONPath that resource print columns use: `{.a.b}`, `{.list[0]}`, `{.list[:]}`, `{@}`,
 * with missing keys allowed (they print nothing). Results print as Kubernetes does: scalars as text, maps and lists
 * as JSON, several matches (from `[:]`) joined by spaces.
 */
export function evaluateJSONPath(expr: string, data: unknown): string {
  const m = /^\{(.*)\}$/.exec(expr.trim());
  if (!m) return expr;
  const path = m[1]!.trim();
  let values: unknown[] = [data];
  if (path !== '@' && path !== '.') {
    const steps = path.replace(/^@/, '').match(/\.[^.[\]]+|\[[^\]]*\]/g) ?? [];
    for (const step of steps) {
      const next: unknown[] = [];
      for (const v of values) {
        if (step.startsWith('.')) {
          const key = step.slice(1);
          if (v !== null && typeof v === 'object' && !Array.isArray(v) && key in (v as object)) next.push((v as Record<string, unknown>)[key]);
        } else if (Array.isArray(v)) {
          const inner = step.slice(1, -1);
          if (inner === ':' || inner === '*') next.push(...v);
          else if (/^-?\d+$/.test(inner)) {
            const i = Number(inner);
            const x = v[i < 0 ? v.length + i : i];
            if (x !== undefined) next.push(x);
          }
        }
      }
      values = next;
    }
  }
  return values.map(show).join(' ');
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
