import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isMap, parseDocument, stringify } from 'yaml';
import { writeFileAtomicSync } from '../sys/atomic-write.js';

/** One context of a talosconfig: where the API is and the credentials to use, as talosctl stores them. */
export interface TalosconfigContext {
  endpoints: string[];
  nodes?: string[];
  /** base64 of the PEM of the OS CA certificate */
  ca?: string;
  /** base64 of the PEM of the client certificate */
  crt?: string;
  /** base64 of the PEM of the client key */
  key?: string;
  auth?: { basic?: { username: string; password: string }; siderov1?: { identity: string } };
  cluster?: string;
}

/** A talosconfig: named contexts and the current one. */
export interface Talosconfig {
  context: string;
  contexts: Record<string, TalosconfigContext>;
}

export type TalosconfigErrorCode = 'BRONZE_TALOSCONFIG_NOT_FOUND' | 'BRONZE_TALOSCONFIG_INVALID' | 'BRONZE_TALOSCONFIG_CONTEXT';

const brand = Symbol.for('bronze.talosconfig.error');

export class TalosconfigError extends Error {
  constructor(
    readonly code: TalosconfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TalosconfigError';
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof` holds across duplicate copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** The read-only talosconfig Kubernetes mounts into pods granted Talos API access. */
export const SERVICE_ACCOUNT_TALOSCONFIG = '/var/run/secrets/talos.dev/config';

/** `$TALOS_HOME` when it is absolute, else `~/.talos`. */
export function talosDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.TALOS_HOME && isAbsolute(env.TALOS_HOME) ? env.TALOS_HOME : join(env.HOME || homedir(), '.talos');
}

/**
 * Where the talosconfig lives, as talosctl finds it: `--talosconfig`, then `$TALOSCONFIG`, then `$TALOS_HOME/config`
 * (absolute only) or `~/.talos/config`; when that file does not exist but the in-pod service account talosconfig
 * does, that one (read-only).
 */
export function talosconfigPath(flag?: string, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string {
  if (flag) return flag;
  if (env.TALOSCONFIG) return env.TALOSCONFIG;
  const home = join(talosDirectory(env), 'config');
  if (!exists(home) && exists(SERVICE_ACCOUNT_TALOSCONFIG)) return SERVICE_ACCOUNT_TALOSCONFIG;
  return home;
}

function stringList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}: expected a list of strings`);
  return v as string[];
}

function optString(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}: expected a string`);
  return v;
}

function parseAuth(v: unknown, where: string): TalosconfigContext['auth'] {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}: expected a mapping`);
  const a = v as Record<string, unknown>;
  const out: NonNullable<TalosconfigContext['auth']> = {};
  if (a.basic !== undefined && a.basic !== null) {
    if (typeof a.basic !== 'object' || Array.isArray(a.basic)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}.basic: expected a mapping`);
    const b = a.basic as Record<string, unknown>;
    out.basic = { username: optString(b.username, `${where}.basic.username`) ?? '', password: optString(b.password, `${where}.basic.password`) ?? '' };
  }
  if (a.siderov1 !== undefined && a.siderov1 !== null) {
    if (typeof a.siderov1 !== 'object' || Array.isArray(a.siderov1)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}.siderov1: expected a mapping`);
    out.siderov1 = { identity: optString((a.siderov1 as Record<string, unknown>).identity, `${where}.siderov1.identity`) ?? '' };
  }
  return out.basic || out.siderov1 ? out : undefined;
}

/** Parses talosconfig YAML; the deprecated `target` of old configs becomes an endpoint, as talosctl does. */
export function parseTalosconfig(text: string, source = 'talosconfig'): Talosconfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${source}: ${doc.errors[0]!.message}`);
  const raw = doc.toJS() as unknown;
  if (raw === null || raw === undefined) return { context: '', contexts: {} };
  if (typeof raw !== 'object' || Array.isArray(raw) || !isMap(doc.contents)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${source}: expected a mapping with "context" and "contexts"`);
  const r = raw as Record<string, unknown>;
  const contexts: Record<string, TalosconfigContext> = {};
  const rawContexts = r.contexts ?? {};
  if (typeof rawContexts !== 'object' || Array.isArray(rawContexts)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${source}: "contexts" must be a mapping`);
  for (const [name, value] of Object.entries(rawContexts as Record<string, unknown>)) {
    const where = `${source}: contexts.${name}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}: expected a mapping`);
    // keys this version does not know are ignored, as talosctl does, so newer talosconfigs still load
    const c = value as Record<string, unknown>;
    const endpoints = stringList(c.endpoints, `${where}.endpoints`) ?? [];
    const target = optString(c.target, `${where}.target`);
    const ctx: TalosconfigContext = { endpoints: target ? [...endpoints, target] : endpoints };
    const nodes = stringList(c.nodes, `${where}.nodes`);
    if (nodes) ctx.nodes = nodes;
    for (const k of ['ca', 'crt', 'key', 'cluster'] as const) {
      const v = optString(c[k], `${where}.${k}`);
      if (v !== undefined) ctx[k] = v;
    }
    const auth = parseAuth(c.auth, `${where}.auth`);
    if (auth) ctx.auth = auth;
    contexts[name] = ctx;
  }
  return { context: optString(r.context, `${source}: context`) ?? '', contexts };
}

/**
 * Serializes as talosctl does: `context`, then `contexts` sorted by name, each context's keys in talosctl's order
 * (`endpoints` always present), four-space indentation, no line folding.
 */
export function serializeTalosconfig(cfg: Talosconfig): string {
  const contexts: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(cfg.contexts).sort()) {
    const c = cfg.contexts[name]!;
    const out: Record<string, unknown> = { endpoints: c.endpoints ?? [] };
    if (c.nodes?.length) out.nodes = c.nodes;
    if (c.ca) out.ca = c.ca;
    if (c.crt) out.crt = c.crt;
    if (c.key) out.key = c.key;
    if (c.auth && (c.auth.basic || c.auth.siderov1)) out.auth = c.auth;
    if (c.cluster) out.cluster = c.cluster;
    contexts[name] = out;
  }
  return stringify({ context: cfg.context, contexts }, { indent: 4, indentSeq: true, lineWidth: 0 });
}

/** Reads a talosconfig file; a missing file is an error naming the path. */
export async function loadTalosconfig(path: string): Promise<Talosconfig> {
  if (!existsSync(path)) {
    throw new TalosconfigError('BRONZE_TALOSCONFIG_NOT_FOUND', `talosconfig not found at ${path} (give --talosconfig, set $TALOSCONFIG, or create one with \`bronzectl gen config\`)`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `cannot read talosconfig ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseTalosconfig(text, path);
}

/** Writes a talosconfig atomically with mode 0600, creating its directory. */
export async function writeTalosconfig(path: string, cfg: Talosconfig): Promise<void> {
  writeFileAtomicSync(path, serializeTalosconfig(cfg), 0o600);
}

export interface ContextRename {
  from: string;
  to: string;
}

/**
 * Merges the contexts of `from` into `into` as talosctl does: a context whose name is taken is renamed `<name>-1`,
 * `<name>-2`, ...; the current context becomes `from`'s (under its new name). Returns the renames.
 */
export function mergeTalosconfig(into: Talosconfig, from: Talosconfig): ContextRename[] {
  const renames: ContextRename[] = [];
  const mapped = new Map<string, string>();
  for (const [name, ctx] of Object.entries(from.contexts)) {
    let merged = name;
    if (into.contexts[merged] !== undefined) {
      for (let i = 1; ; i++) {
        merged = `${name}-${i}`;
        if (into.contexts[merged] === undefined) break;
      }
    }
    mapped.set(name, merged);
    if (merged !== name) renames.push({ from: name, to: merged });
    into.contexts[merged] = ctx;
  }
  if (from.context !== '') into.context = mapped.get(from.context) ?? '';
  return renames;
}

/** The named context (or the current one), with a clear error when it is not there. */
export function resolveContext(cfg: Talosconfig, name?: string): TalosconfigContext {
  const want = name || cfg.context;
  if (!want) throw new TalosconfigError('BRONZE_TALOSCONFIG_CONTEXT', 'no context is set in the talosconfig (use --context or `bronzectl config context <name>`)');
  const ctx = cfg.contexts[want];
  if (!ctx) {
    const known = Object.keys(cfg.contexts).sort();
    throw new TalosconfigError('BRONZE_TALOSCONFIG_CONTEXT', `context "${want}" is not defined in talosconfig${known.length ? ` (contexts: ${known.join(', ')})` : ''}`);
  }
  return ctx;
}
