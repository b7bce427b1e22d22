import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CommandContext } from '../command.js';
import type { FlagSpec } from '../flags.js';
import { printResult } from '../output/format.js';

/** `-f/--force` of every `gen` command. */
export const forceFlag: FlagSpec = { name: 'force', short: 'f', kind: 'bool', description: 'will overwrite existing files' };

/** Fails, as talosctl, when a file exists and --force was not given. */
export function ensureWritable(ctx: CommandContext, files: string[]): void {
  if (ctx.bool('force')) return;
  const existing = files.filter((f) => existsSync(resolve(f)));
  if (existing.length) throw new Error(existing.map((f) => `file ${JSON.stringify(f)} already exists, use --force to overwrite`).join('; '));
}

/** Writes a file (creating its directory), with the mode set even when the file existed. */
export function writeOutput(path: string, data: string, mode: number): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, data, { mode });
  chmodSync(path, mode);
}

/** Reads an input file; the error names what it is (`error reading CA cert: ...`). */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`error reading ${what}: ${(e as Error).message}`, { cause: e });
  }
}

/** With `-o json|yaml`: the files a `gen` command wrote, as one document. */
export function printWritten(ctx: CommandContext, files: string[]): void {
  printResult(ctx, undefined, { files: files.map((f) => resolve(f)) });
}
