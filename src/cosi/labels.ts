import { CosiError } from './errors.js';

/**
 * Label and ID queries, with COSI's semantics: the terms of one query are AND-ed, a list of queries matches when any
 * query does, and `invert` negates a term that could be evaluated (a comparison on a missing label, or a numeric
 * comparison of non-numbers, matches neither way).
 */
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
  /** a regular expression the ID must contain a match of (not anchored, as Go's MatchString) */
  regexp: string;
}

const INTEGER = /^[+-]?\d+$/;

function isComparison(op: LabelOp): boolean {
  return op === 'lt' || op === 'lte' || op === 'ltNumeric' || op === 'lteNumeric';
}

/** The term's truth before `invert`, or undefined when it cannot be evaluated. */
function evaluate(t: LabelTerm, labels: Readonly<Record<string, string>>): boolean | undefined {
  if (!Object.hasOwn(labels, t.key)) return isComparison(t.op) ? undefined : false;
  const v = labels[t.key]!;
  if (t.op === 'exists') return true;
  const want = t.value ?? [];
  if (want.length === 0) return false;
  const first = want[0]!;
  switch (t.op) {
    case 'equal':
      return v === first;
    case 'in':
      return want.includes(v);
    case 'lt':
      return v < first;
    case 'lte':
      return v <= first;
    case 'ltNumeric':
    case 'lteNumeric': {
      if (!INTEGER.test(v) || !INTEGER.test(first)) return undefined;
      const a = BigInt(v);
      const b = BigInt(first);
      return t.op === 'ltNumeric' ? a < b : a <= b;
    }
  }
}

export function termMatches(t: LabelTerm, labels: Readonly<Record<string, string>>): boolean {
  const ok = evaluate(t, labels);
  if (ok === undefined) return false;
  return t.invert ? !ok : ok;
}

export function queryMatches(q: LabelQuery, labels: Readonly<Record<string, string>>): boolean {
  for (const t of q.terms) if (!termMatches(t, labels)) return false;
  return true;
}

/** No queries match everything; otherwise any one query must match. */
export function matchesLabels(labels: Readonly<Record<string, string>>, queries: readonly LabelQuery[] | undefined): boolean {
  if (!queries || queries.length === 0) return true;
  for (const q of queries) if (queryMatches(q, labels)) return true;
  return false;
}

const regexCache = new Map<string, RegExp>();

/** Compiles an ID query, so a bad expression fails where it is given rather than on the first match. */
export function compileIDQuery(q: IDQuery | undefined): RegExp | undefined {
  if (!q || q.regexp === '') return undefined;
  let re = regexCache.get(q.regexp);
  if (!re) {
    try {
      re = new RegExp(q.regexp);
    } catch (e) {
      throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `invalid ID query regexp "${q.regexp}": ${(e as Error).message}`);
    }
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(q.regexp, re);
  }
  return re;
}

export function matchesID(id: string, q: IDQuery | undefined): boolean {
  const re = compileIDQuery(q);
  return re === undefined || re.test(id);
}
