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

export class TalosconfigError extends Error {
  constructor(
    readonly code: TalosconfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TalosconfigError';
  }
}

/** Where the talosconfig lives: `--talosconfig`, then `$TALOSCONFIG`, then `$TALOS_HOME/config` (absolute only) or `~/.talos/config`. */
export function talosconfigPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.TALOSCONFIG) return env.TALOSCONFIG;
  const home = env.TALOS_HOME && isAbsolute(env.TALOS_HOME) ? env.TALOS_HOME : join(env.HOME || homedir(), '.talos');
  return join(home, 'config');
}

const CONTEXT_KEYS = new Set(['target', 'endpoints', 'nodes', 'ca', 'crt', 'key', 'auth', 'cluster']);

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
    const c = value as Record<string, unknown>;
    for (const k of Object.keys(c)) if (!CONTEXT_KEYS.has(k)) throw new TalosconfigError('BRONZE_TALOSCONFIG_INVALID', `${where}.${k}: unknown key`);
    const endpoints = stringList(c.endpoints, `${where}.endpoints`) ?? [];
    const target = optString(c.target, `${where}.target`);
    const ctx: TalosconfigContext = { endpoints: target ? [...endpoints, target] : endpoints };
    const nodes = stringList(c.nodes, `${where}.nodes`);
    if (nodes) ctx.nodes = nodes;
    for (const k of ['ca', 'crt', 'key', 'cluster'] as const) {
      const v = optString(c[k], `${where}.${k}`);
      if (v !== undefined) ctx[k] = v;
    }
    if (c.auth !== undefined && c.auth !== null) ctx.auth = c.auth as TalosconfigContext['auth'];
    contexts[name] = ctx;
  }
  return { context: optString(r.context, `${source}: context`) ?? '', contexts };
}

/** Serializes as talosctl does: `context`, then `contexts` with each context's keys in talosctl's order. */
export function serializeTalosconfig(cfg: Talosconfig): string {
  const contexts: Record<string, Record<string, unknown>> = {};
  for (const [name, c] of Object.entries(cfg.contexts)) {
    const out: Record<string, unknown> = { endpoints: c.endpoints };
    if (c.nodes?.length) out.nodes = c.nodes;
    if (c.ca) out.ca = c.ca;
    if (c.crt) out.crt = c.crt;
    if (c.key) out.key = c.key;
    if (c.auth && (c.auth.basic || c.auth.siderov1)) out.auth = c.auth;
    if (c.cluster) out.cluster = c.cluster;
    contexts[name] = out;
  }
  return stringify({ context: cfg.context, contexts }, { lineWidth: 0 });
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
