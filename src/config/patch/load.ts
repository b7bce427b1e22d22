/**
 * Loading patches as talosctl does: first as a (multi-document) strategic merge patch with `$patch: delete` allowed,
 * then as an RFC 6902 JSON patch in JSON, then as one in YAML. `@file` reads a file; a bare word without spaces,
 * newlines or a leading `[`/`{` is taken as a file name too.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYAML } from 'yaml';
import { ConfigError } from '../errors.js';
import { loadEntries } from '../loader.js';
import { type JSONPatch, parseOperations } from './json6902.js';
import type { StrategicPatch } from './strategic.js';

export type Patch = StrategicPatch | JSONPatch;

/** Parses one patch from its text. */
export function loadPatch(text: string, source?: string): Patch {
  let strategicErr: unknown;
  try {
    return { type: 'strategic', entries: loadEntries(text, { allowPatchDelete: true, source }) };
  } catch (e) {
    strategicErr = e;
  }
  let jsonErr: unknown;
  try {
    return { type: 'json6902', operations: parseOperations(JSON.parse(text), source ?? 'JSON patch') };
  } catch (e) {
    jsonErr = e;
  }
  let yamlValue: unknown;
  try {
    yamlValue = parseYAML(text);
  } catch {
    yamlValue = undefined;
  }
  if (Array.isArray(yamlValue)) return { type: 'json6902', operations: parseOperations(yamlValue, source ?? 'YAML JSON patch') };
  const err = text.trimStart().startsWith('[') ? jsonErr : strategicErr;
  if (err instanceof ConfigError) throw new ConfigError('BRONZE_CONFIG_PATCH', `error parsing config patch${source ? ` ${source}` : ''}: ${err.message}`, err.issues, { cause: err });
  throw new ConfigError('BRONZE_CONFIG_PATCH', `error parsing config patch${source ? ` ${source}` : ''}: ${(err as Error).message}`, [], { cause: err });
}

/** The text of a patch argument: `@file`, a bare file name, or the patch itself. */
export function patchArgumentText(arg: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): { text: string; source?: string } {
  const read = (path: string) => {
    try {
      return { text: readFile(path), source: path };
    } catch (e) {
      throw new ConfigError('BRONZE_CONFIG_PATCH', `cannot read patch file ${path}: ${(e as Error).message}`, [], { cause: e });
    }
  };
  if (arg.startsWith('@')) return read(arg.slice(1));
  if (!/[\n ]/.test(arg) && !arg.startsWith('[') && !arg.startsWith('{')) return read(arg);
  return { text: arg };
}

/** Loads patch arguments in order; consecutive JSON patches are joined into one, as talosctl does. */
export function loadPatches(args: string[], readFile?: (path: string) => string): Patch[] {
  const out: Patch[] = [];
  for (const arg of args) {
    const { text, source } = patchArgumentText(arg, readFile);
    const p = loadPatch(text, source);
    const last = out[out.length - 1];
    if (p.type === 'json6902' && last?.type === 'json6902') last.operations.push(...p.operations);
    else out.push(p);
  }
  return out;
}
