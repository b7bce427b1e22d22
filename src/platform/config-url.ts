import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { type HttpAnswer, httpGet } from './http-get.js';

/**
 * The machine config named by `talos.config=` on metal, as Talos v1.13.9 fetches it (platform/metal, metal/url and
 * pkg/download):
 *
 * - `none` (or no parameter) means there is no config source; `metal-iso` means config.yaml on the filesystem labelled
 *   metal-iso, which the caller reads.
 * - Otherwise it is a URL whose query values may hold `${uuid}`, `${serial}`, `${mac}`, `${hostname}` and `${code}`
 *   (names matched case-insensitively), and whose `uuid` key, when empty (blank, or repeated), gets the SMBIOS UUID.
 *   Only `uuid` has that legacy form. The path and the rest of the URL are never touched. When any variable is used,
 *   the query is written back Go-style: keys sorted, values escaped as url.QueryEscape does.
 * - Each attempt waits for the values it needs (half the attempt timeout, 90 s by default), then downloads with what
 *   it has: a variable still missing stays as written. Attempts last 3 min at most and are retried for 3 h in all.
 * - HTTP: 200 is the config (an empty body too), 204 is an empty config; every other status, including 404 (metal
 *   sets no not-found error), and every connection or read failure is retried. There is no Base64 decoding on metal.
 * - file:// URLs are read from the local filesystem; a read error is final, as in Talos.
 *
 * Where Bronze differs: tftp:// (Talos supports it) and other schemes fail at once with
 * BRONZE_CONFIG_URL_UNSUPPORTED_SCHEME instead of being retried, an unparsable URL fails at once, and a substituted
 * value is inserted literally (Go's regexp would expand `$name` inside it).
 */

export const CONFIG_URL_VARIABLES = ['uuid', 'serial', 'mac', 'hostname', 'code'] as const;
export type ConfigURLVariable = (typeof CONFIG_URL_VARIABLES)[number];

/**
 * Gives a variable's value, waiting for it if need be (the signal says when to stop waiting). An empty string means
 * "not known yet": the provider is asked again a little later, as Talos keeps watching its resource.
 */
export type ConfigURLValueProvider = (signal: AbortSignal) => Promise<string> | string;
export type ConfigURLValues = Partial<Record<ConfigURLVariable, ConfigURLValueProvider>>;

export type ConfigURLErrorCode =
  /** the URL does not parse (final) */
  | 'BRONZE_CONFIG_URL_INVALID'
  /** tftp:// or another scheme Bronze cannot download from (final) */
  | 'BRONZE_CONFIG_URL_UNSUPPORTED_SCHEME'
  /** a value provider failed (the attempt is retried) */
  | 'BRONZE_CONFIG_URL_VARIABLE'
  /** some variables had no value in time (substituteConfigURL; fetchConfig goes on without them) */
  | 'BRONZE_CONFIG_URL_VARIABLES_PENDING'
  /** the server answered with a status other than 200 or 204 (retried) */
  | 'BRONZE_CONFIG_URL_HTTP_STATUS'
  /** the request or the reading of the body failed (retried) */
  | 'BRONZE_CONFIG_URL_REQUEST'
  /** one attempt took longer than its timeout (retried) */
  | 'BRONZE_CONFIG_URL_ATTEMPT_TIMEOUT'
  /** a file:// URL could not be read (final) */
  | 'BRONZE_CONFIG_URL_FILE'
  /** the total time for all attempts ran out */
  | 'BRONZE_CONFIG_URL_TIMEOUT'
  /** the caller's signal aborted */
  | 'BRONZE_CONFIG_URL_ABORTED';

export class ConfigURLError extends Error {
  /** the status of a BRONZE_CONFIG_URL_HTTP_STATUS error */
  status?: number;
  /** the variables still without a value (BRONZE_CONFIG_URL_VARIABLES_PENDING) */
  pending?: ConfigURLVariable[];
  /** the number of attempts made (BRONZE_CONFIG_URL_TIMEOUT) */
  attempts?: number;

  constructor(
    readonly code: ConfigURLErrorCode,
    /** the talos.config URL as given (variables not substituted) */
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigURLError';
  }

  /** whether Talos would try again after this error */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

const RETRYABLE = new Set<ConfigURLErrorCode>(['BRONZE_CONFIG_URL_VARIABLE', 'BRONZE_CONFIG_URL_HTTP_STATUS', 'BRONZE_CONFIG_URL_REQUEST', 'BRONZE_CONFIG_URL_ATTEMPT_TIMEOUT']);

/** What the `talos.config` parameter asks for. */
export type ConfigParam = { kind: 'none' } | { kind: 'metal-iso' } | { kind: 'url'; url: string };

/** Classifies the value of `talos.config=` (undefined when the parameter is absent). */
export function parseConfigParam(value: string | undefined): ConfigParam {
  if (value === undefined || value === 'none') return { kind: 'none' };
  if (value === 'metal-iso') return { kind: 'metal-iso' };
  return { kind: 'url', url: value };
}

// --- query handling, Go's net/url style ---

interface SplitURL {
  /** everything before the `?` */
  head: string;
  /** the raw query, without the `?` (undefined when there is none) */
  query: string | undefined;
  /** `#...` or empty */
  fragment: string;
}

function splitURL(url: string): SplitURL {
  const hash = url.indexOf('#');
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const q = beforeHash.indexOf('?');
  if (q < 0) return { head: beforeHash, query: undefined, fragment };
  return { head: beforeHash.slice(0, q), query: beforeHash.slice(q + 1), fragment };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** url.QueryUnescape: `+` is a space, `%XX` a byte; undefined for a broken escape. */
function queryUnescape(s: string): string | undefined {
  const input = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25) {
      const hi = i + 1 < input.length ? hexValue(input[i + 1]!) : -1;
      const lo = i + 2 < input.length ? hexValue(input[i + 2]!) : -1;
      if (hi < 0 || lo < 0) return undefined;
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n).toString('utf8');
}

/** url.QueryEscape: only ASCII letters, digits and `-_.~` stay as they are; a space becomes `+`. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** url.ParseQuery, keeping what it keeps: pairs split on `&`, those with `;` or a broken escape dropped. */
function parseQuery(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of query.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    const key = queryUnescape(eq < 0 ? part : part.slice(0, eq));
    const value = queryUnescape(eq < 0 ? '' : part.slice(eq + 1));
    if (key === undefined || value === undefined) continue;
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** url.Values.Encode: keys in byte order, each value as `key=value`. */
function encodeQuery(values: Map<string, string[]>): string {
  const keys = [...values.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const parts: string[] = [];
  for (const k of keys) for (const v of values.get(k)!) parts.push(`${goQueryEscape(k)}=${goQueryEscape(v)}`);
  return parts.join('&');
}

/** `${name}`, any case: one pattern to test with, one to replace every occurrence with */
const TEST = new Map(CONFIG_URL_VARIABLES.map((name) => [name, new RegExp(`\\$\\{${name}\\}`, 'i')] as const));
const ALL = new Map(CONFIG_URL_VARIABLES.map((name) => [name, new RegExp(`\\$\\{${name}\\}`, 'gi')] as const));

/** The `uuid` key with no usable value: Talos's legacy `?uuid=` form (a blank or repeated key counts). */
function emptyArg(name: ConfigURLVariable, key: string, list: string[]): boolean {
  return name === 'uuid' && key === name && !(list.length === 1 && list[0]!.trim() !== '');
}

function uses(name: ConfigURLVariable, query: Map<string, string[]>): boolean {
  const re = TEST.get(name)!;
  for (const [key, list] of query) {
    if (emptyArg(name, key, list)) return true;
    if (list.some((v) => re.test(v))) return true;
  }
  return false;
}

function replace(query: Map<string, string[]>, values: ReadonlyMap<ConfigURLVariable, string>): Map<string, string[]> {
  const out = new Map<string, string[]>([...query].map(([k, list]) => [k, [...list]]));
  for (const name of CONFIG_URL_VARIABLES) {
    const value = values.get(name);
    if (value === undefined) continue;
    for (const [key, list] of out) {
      if (emptyArg(name, key, list)) {
        out.set(key, [value]);
        continue;
      }
      out.set(
        key,
        list.map((v) => v.replace(ALL.get(name)!, () => value)),
      );
    }
  }
  return out;
}

function validate(url: string): URL {
  try {
    return new URL(url);
  } catch (e) {
    throw new ConfigURLError('BRONZE_CONFIG_URL_INVALID', url, `talos.config URL ${JSON.stringify(url)} does not parse`, { cause: e });
  }
}

/** The variables a talos.config URL uses, in a fixed order. */
export function configURLVariables(url: string): ConfigURLVariable[] {
  validate(url);
  const { query } = splitURL(url);
  if (query === undefined) return [];
  const parsed = parseQuery(query);
  return CONFIG_URL_VARIABLES.filter((name) => uses(name, parsed));
}

// --- waiting ---

/** A signal that aborts when any of the given ones does; dispose() drops the listeners. */
function anySignal(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const s of signals) {
    if (s.aborted) {
      ac.abort(s.reason);
      break;
    }
    const onAbort = () => ac.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => s.removeEventListener('abort', onAbort));
  }
  return { signal: ac.signal, dispose: () => cleanups.forEach((c) => c()) };
}

/** A signal that aborts after ms (a referenced timer, so a wait on it keeps the process alive); dispose() clears it. */
function timeoutSignal(ms: number): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  if (!Number.isFinite(ms)) return { signal: ac.signal, dispose: () => {} };
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${ms} ms`)), Math.max(0, ms));
  return { signal: ac.signal, dispose: () => clearTimeout(timer) };
}

/** Resolves with the promise, or rejects as soon as the signal aborts. */
function race<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export interface PopulateOptions {
  /** how soon to ask a provider again after it gave an empty value (default 1 s) */
  pollMs?: number;
}

/**
 * Fills the variables of a talos.config URL, waiting for their values until the signal aborts; then gives the URL
 * with what it has and the names still missing (Talos downloads such a URL anyway). A URL without variables comes
 * back exactly as given. Throws BRONZE_CONFIG_URL_INVALID or BRONZE_CONFIG_URL_VARIABLE (a provider failed).
 */
export async function populateConfigURL(
  url: string,
  values: ConfigURLValues,
  signal: AbortSignal,
  opts: PopulateOptions = {},
): Promise<{ url: string; pending: ConfigURLVariable[] }> {
  validate(url);
  const parts = splitURL(url);
  if (parts.query === undefined) return { url, pending: [] };
  const query = parseQuery(parts.query);
  const active = CONFIG_URL_VARIABLES.filter((name) => uses(name, query));
  if (active.length === 0) return { url, pending: [] };

  const pollMs = opts.pollMs ?? 1000;
  const resolved = new Map<ConfigURLVariable, string>();
  // stops the other waits when one provider fails
  const local = new AbortController();
  const wait = anySignal([signal, local.signal]);
  try {
    await Promise.all(
      active.map(async (name) => {
        const provider = values[name];
        while (!wait.signal.aborted) {
          if (provider) {
            let value: string;
            try {
              value = await race(Promise.resolve().then(() => provider(wait.signal)), wait.signal);
            } catch (e) {
              if (wait.signal.aborted) return;
              local.abort();
              throw new ConfigURLError('BRONZE_CONFIG_URL_VARIABLE', url, `getting \${${name}} for talos.config URL ${JSON.stringify(url)}: ${(e as Error).message}`, {
                cause: e,
              });
            }
            if (value !== '') {
              resolved.set(name, value);
              return;
            }
          }
          try {
            await delay(provider ? pollMs : 2 ** 31 - 1, undefined, { signal: wait.signal });
          } catch {
            return;
          }
        }
      }),
    );
  } finally {
    wait.dispose();
  }
  const out = `${parts.head}?${encodeQuery(replace(query, resolved))}${parts.fragment}`;
  return { url: out, pending: active.filter((name) => !resolved.has(name)) };
}

/**
 * Fills the variables of a talos.config URL (see the module comment for the rules), waiting for every value until the
 * signal aborts; rejects with BRONZE_CONFIG_URL_VARIABLES_PENDING (naming the missing ones) if it does first.
 */
export async function substituteConfigURL(url: string, values: ConfigURLValues, signal: AbortSignal, opts: PopulateOptions = {}): Promise<string> {
  const result = await populateConfigURL(url, values, signal, opts);
  if (result.pending.length > 0) {
    const err = new ConfigURLError(
      'BRONZE_CONFIG_URL_VARIABLES_PENDING',
      url,
      `talos.config URL ${JSON.stringify(url)}: no value for ${result.pending.map((n) => `\${${n}}`).join(', ')}`,
      { cause: signal.reason },
    );
    err.pending = result.pending;
    throw err;
  }
  return result.url;
}

// --- downloading ---

export interface FetchConfigOptions {
  values: ConfigURLValues;
  signal: AbortSignal;
  /** one attempt, waiting for the variables included (default 3 min) */
  attemptTimeoutMs?: number;
  /** all attempts and the waits between them (default 3 h) */
  totalTimeoutMs?: number;
  /** how long an attempt waits for the variables before going on without them (default half the attempt timeout) */
  variablesTimeoutMs?: number;
  /** how soon to ask a provider again after it gave an empty value (default 1 s) */
  valuePollMs?: number;
  /**
   * The wait before retry n (n = 1, 2, ...): (2^(n-1) − 1) × initialMs, at most maxMs, plus a random jitter below
   * jitterMs. Talos: initial 1 s, jitter 1 s, no maximum (0 s, 1 s, 3 s, 7 s, ...). Defaults to that.
   */
  backoff?: { initialMs: number; maxMs: number; jitterMs?: number };
  /** extra request headers */
  headers?: Record<string, string>;
  /** every failed attempt that will be retried (Talos logs these) */
  onAttemptError?(err: ConfigURLError, attempt: number): void;
  /** an attempt went on with variables still missing */
  onVariablesPending?(pending: ConfigURLVariable[], url: string): void;
}

/** Up to 32 bytes of an error response's body, invalid UTF-8 dropped (Talos puts them in the error). */
async function bodyPrefix(res: HttpAnswer): Promise<string> {
  let head: Buffer;
  try {
    head = await res.body(32);
  } catch {
    return '';
  }
  return head.toString('utf8').replace(/\uFFFD/g, '');
}

function describeError(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err?.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err?.message ?? String(e)}${cause}`;
}

function checkScheme(u: URL, template: string): void {
  if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'file:') return;
  const scheme = u.protocol.slice(0, -1);
  throw new ConfigURLError(
    'BRONZE_CONFIG_URL_UNSUPPORTED_SCHEME',
    template,
    `talos.config URL ${JSON.stringify(template)}: unsupported scheme ${JSON.stringify(scheme)}${scheme === 'tftp' ? ' (Talos fetches tftp:// URLs; Bronze does not)' : ''}: use http, https or file`,
  );
}

interface AttemptContext {
  template: string;
  opts: FetchConfigOptions;
  attemptSignal: AbortSignal;
}

async function attemptOnce(ctx: AttemptContext): Promise<Buffer> {
  const { template, opts, attemptSignal } = ctx;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 3 * 60_000;
  const varTimeout = timeoutSignal(opts.variablesTimeoutMs ?? attemptTimeoutMs / 2);
  const varSignal = anySignal([attemptSignal, varTimeout.signal]);
  let target: string;
  try {
    const populated = await populateConfigURL(template, opts.values, varSignal.signal, { pollMs: opts.valuePollMs });
    if (attemptSignal.aborted) throw attemptSignal.reason;
    if (populated.pending.length > 0) opts.onVariablesPending?.(populated.pending, populated.url);
    target = populated.url;
  } finally {
    varSignal.dispose();
    varTimeout.dispose();
  }

  const u = validate(target);
  const from = `failed to download config from ${JSON.stringify(template)}`;
  if (u.protocol === 'file:') {
    try {
      return await readFile(decodeURIComponent(u.pathname), { signal: attemptSignal });
    } catch (e) {
      if (attemptSignal.aborted) throw e;
      throw new ConfigURLError('BRONZE_CONFIG_URL_FILE', template, `${from}: ${describeError(e)}`, { cause: e });
    }
  }
  checkScheme(u, template);

  let res: HttpAnswer;
  try {
    res = await httpGet(target, { headers: opts.headers, signal: attemptSignal });
  } catch (e) {
    if (attemptSignal.aborted) throw e;
    throw new ConfigURLError('BRONZE_CONFIG_URL_REQUEST', template, `${from}: ${describeError(e)}`, { cause: e });
  }
  if (res.status === 204) {
    res.discard();
    return Buffer.alloc(0);
  }
  if (res.status !== 200) {
    const body = await bodyPrefix(res);
    const err = new ConfigURLError('BRONZE_CONFIG_URL_HTTP_STATUS', template, `${from}: failed to download config, status code ${res.status}, body ${JSON.stringify(body)}`);
    err.status = res.status;
    throw err;
  }
  try {
    return await res.body();
  } catch (e) {
    if (attemptSignal.aborted) throw e;
    throw new ConfigURLError('BRONZE_CONFIG_URL_REQUEST', template, `${from}: read config: ${describeError(e)}`, { cause: e });
  }
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Downloads the config a talos.config URL names, as Talos does on metal: every attempt fills the URL's variables
 * (waiting for them up to `variablesTimeoutMs`), then reads a file:// URL or GETs an http(s) one; failures that Talos
 * retries are retried with exponential backoff until `totalTimeoutMs` runs out. The result may be empty (a 204, or a
 * 200 with no body), as in Talos; gzip detection and parsing are the caller's.
 *
 * Rejects with a ConfigURLError: BRONZE_CONFIG_URL_TIMEOUT (cause: the last attempt's error), BRONZE_CONFIG_URL_ABORTED,
 * or a final error of the first attempt that had one (INVALID, UNSUPPORTED_SCHEME, FILE).
 */
export async function fetchConfig(url: string, opts: FetchConfigOptions): Promise<Buffer> {
  const { signal } = opts;
  const aborted = () => new ConfigURLError('BRONZE_CONFIG_URL_ABORTED', url, `downloading the config from ${JSON.stringify(url)} was aborted`, { cause: signal.reason });
  if (signal.aborted) throw aborted();
  checkScheme(validate(url), url);

  const totalMs = opts.totalTimeoutMs ?? 3 * 60 * 60_000;
  const attemptMs = opts.attemptTimeoutMs ?? 3 * 60_000;
  const backoff = opts.backoff ?? { initialMs: 1000, maxMs: Infinity };
  const jitterMs = backoff.jitterMs ?? backoff.initialMs;

  const total = timeoutSignal(totalMs);
  const overall = anySignal([signal, total.signal]);
  let last: ConfigURLError | undefined;
  let attempt = 0;
  const timedOut = () => {
    const err = new ConfigURLError(
      'BRONZE_CONFIG_URL_TIMEOUT',
      url,
      `failed to download config from ${JSON.stringify(url)}: gave up after ${attempt} attempt(s) in ${formatDuration(totalMs)}${last ? `: ${last.message}` : ''}`,
      { cause: last },
    );
    err.attempts = attempt;
    return err;
  };
  try {
    for (;;) {
      attempt++;
      const perAttempt = timeoutSignal(attemptMs);
      const attemptSignal = anySignal([overall.signal, perAttempt.signal]);
      try {
        return await attemptOnce({ template: url, opts, attemptSignal: attemptSignal.signal });
      } catch (e) {
        if (signal.aborted) throw aborted();
        if (total.signal.aborted) throw timedOut();
        let err: ConfigURLError;
        if (e instanceof ConfigURLError) err = e;
        else if (perAttempt.signal.aborted) {
          err = new ConfigURLError('BRONZE_CONFIG_URL_ATTEMPT_TIMEOUT', url, `failed to download config from ${JSON.stringify(url)}: attempt timed out after ${formatDuration(attemptMs)}`, {
            cause: e,
          });
        } else err = new ConfigURLError('BRONZE_CONFIG_URL_REQUEST', url, `failed to download config from ${JSON.stringify(url)}: ${describeError(e)}`, { cause: e });
        if (!err.retryable) throw err;
        last = err;
        opts.onAttemptError?.(err, attempt);
      } finally {
        attemptSignal.dispose();
        perAttempt.dispose();
      }

      const base = Math.min((2 ** Math.min(attempt - 1, 52) - 1) * backoff.initialMs, backoff.maxMs);
      const wait = base + (jitterMs > 0 ? Math.floor(Math.random() * jitterMs) : 0);
      try {
        await delay(wait, undefined, { signal: overall.signal });
      } catch {
        if (signal.aborted) throw aborted();
        throw timedOut();
      }
    }
  } finally {
    overall.dispose();
    total.dispose();
  }
}

export type MetalConfigResult = { kind: 'none' } | { kind: 'metal-iso' } | { kind: 'config'; data: Buffer };

/**
 * The metal platform's config source for a `talos.config` value: nothing, the metal-iso volume (the caller reads
 * config.yaml from it), or the downloaded bytes. Talos waits for the network before downloading; so should the caller.
 */
export async function loadMetalConfig(param: string | undefined, opts: FetchConfigOptions): Promise<MetalConfigResult> {
  const p = parseConfigParam(param);
  if (p.kind !== 'url') return p;
  return { kind: 'config', data: await fetchConfig(p.url, opts) };
}
