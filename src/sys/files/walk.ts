import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, relative } from 'node:path';
import { SysError } from '../errors.js';
import { GO_MODE_TYPE, GoFileMode, goFileMode } from './file-mode.js';
import { goPathError } from './go-error.js';

export type FileKind = 'regular' | 'directory' | 'symlink';

export interface WalkItem {
  fullPath: string;
  relPath: string;
  /** lstat of the entry; absent when it could not be read */
  stat?: Stats;
  /** Go os.FileMode of the entry */
  mode?: number;
  /** symlink target */
  link?: string;
  /** Go-style error text (`lstat /x: permission denied`) */
  error?: string;
}

export interface WalkOptions {
  /**
   * How deep to go below the root: -1 = unlimited; otherwise a directory whose depth (its `/` count minus the
   * root's, as Talos counts it) reaches this value is listed but not entered. The root is always entered.
   */
  maxDepth?: number;
  /** only list entries of these kinds (every directory is still walked, within maxDepth) */
  types?: FileKind[];
  /** do not list the root when it is a directory (archives) */
  skipRoot?: boolean;
  signal?: AbortSignal;
}

const slashes = (p: string) => p.split('/').length - 1;

function matchesKind(mode: number, kinds: FileKind[]): boolean {
  return kinds.some((k) => {
    if (k === 'regular') return (mode & GO_MODE_TYPE) === 0 && mode < GoFileMode.Dir;
    if (k === 'directory') return mode >= GoFileMode.Dir;
    return (mode & GoFileMode.Symlink) !== 0;
  });
}

/** Byte-wise name order, as Go's sort.Strings orders directory entries. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Walks a tree in lexical order the way Go's filepath.Walk does (Talos's List, DiskUsage and Copy are built on it):
 * the root comes first (a symlinked root is resolved first), then each directory's entries sorted by name, depth
 * first. Entries that cannot be read are yielded with `error`; a directory that cannot be listed is yielded a second
 * time with the error. Throws when the root itself cannot be read.
 *
 * Unlike Talos, a directory filtered out by `types` still honours maxDepth (Talos descends into it without limit).
 */
export async function* walk(root: string, opts: WalkOptions = {}): AsyncGenerator<WalkItem> {
  const maxDepth = opts.maxDepth ?? -1;
  let rootPath = root;
  let st: Stats;
  try {
    st = await lstat(rootPath);
    if (st.isSymbolicLink()) {
      rootPath = await realpath(rootPath);
      st = await lstat(rootPath);
    }
  } catch (e) {
    throw new SysError('BRONZE_SYS_NOT_FOUND', goPathError('lstat', root, e), { cause: e });
  }
  const rootSlashes = slashes(rootPath);
  const rel = (p: string) => (p === rootPath ? '.' : relative(rootPath, p));

  async function* visit(path: string, stat: Stats): AsyncGenerator<WalkItem> {
    opts.signal?.throwIfAborted();
    const mode = goFileMode(stat.mode);
    const item: WalkItem = { fullPath: path, relPath: path === rootPath && !stat.isDirectory() ? basename(path) : rel(path), stat, mode };
    let listed = true;
    if (opts.types && opts.types.length > 0 && !matchesKind(mode, opts.types)) listed = false;
    if (path === rootPath && opts.skipRoot && stat.isDirectory()) listed = false;
    if (listed && stat.isSymbolicLink()) {
      try {
        item.link = await readlink(path);
      } catch (e) {
        item.error = goPathError('readlink', path, e);
      }
    }
    if (listed) yield item;
    if (!stat.isDirectory()) return;
    if (path !== rootPath && maxDepth >= 0 && slashes(path) - rootSlashes >= maxDepth) return;
    let names: string[];
    try {
      names = (await readdir(path)).sort(byBytes);
    } catch (e) {
      yield { fullPath: path, relPath: rel(path), stat, mode, error: goPathError('open', path, e) };
      return;
    }
    for (const name of names) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      let cst: Stats;
      try {
        cst = await lstat(child);
      } catch (e) {
        yield { fullPath: child, relPath: rel(child), error: goPathError('lstat', child, e) };
        continue;
      }
      yield* visit(child, cst);
    }
  }

  yield* visit(rootPath, st);
}

/** Normalises an API path as Talos's List does: made absolute, trailing `/` removed, empty = `/`. */
export function normalizeApiPath(p: string): string {
  let out = p.startsWith('/') ? p : `/${p}`;
  while (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out === '' ? '/' : out;
}
