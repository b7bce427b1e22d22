/** Label and ID queries, as COSI defines them: terms within a query are AND-ed; `invert` negates a term. */
export type LabelOp = 'exists' | 'equal' | 'in' | 'lt' | 'lte' | 'ltNumeric' | 'lteNumeric';

export interface LabelTerm {
  key: string;
  op: LabelOp;
  value?: string[];
  invert?: boolean;
}

export interface LabelQuery {
  terms: LabelTerm[];
}

export interface IDQuery {
  /** a regular expression the ID must match */
  regexp: string;
}

function termMatches(t: LabelTerm, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, t.key);
  const v = labels[t.key];
  const want = t.value ?? [];
  let ok: boolean;
  switch (t.op) {
    case 'exists':
      ok = has;
      break;
    case 'equal':
      ok = has && v === want[0];
      break;
    case 'in':
      ok = has && want.includes(v!);
      break;
    case 'lt':
      ok = has && v! < want[0]!;
      break;
    case 'lte':
      ok = has && v! <= want[0]!;
      break;
    case 'ltNumeric':
    case 'lteNumeric': {
      const a = Number(v);
      const b = Number(want[0]);
      ok = has && !Number.isNaN(a) && !Number.isNaN(b) && (t.op === 'ltNumeric' ? a < b : a <= b);
      break;
    }
  }
  return t.invert ? !ok : ok;
}

export function matchesLabels(labels: Record<string, string>, queries: readonly LabelQuery[] | undefined): boolean {
  if (!queries) return true;
  return queries.every((q) => q.terms.every((t) => termMatches(t, labels)));
}

const regexCache = new Map<string, RegExp>();

export function matchesID(id: string, q: IDQuery | undefined): boolean {
  if (!q || q.regexp === '') return true;
  let re = regexCache.get(q.regexp);
  if (!re) {
    re = new RegExp(q.regexp);
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(q.regexp, re);
  }
  return re.test(id);
}
