import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';

/** The longest unix socket path Linux takes (sun_path is 108 bytes, NUL included). */
export const MAX_SOCKET_PATH = 107;

/** The names of the short links, in the temporary directory */
const LINK_PREFIX = 'bronze-sock-';

/**
 * A path for a unix socket that fits sun_path, with room for `suffix` (containerd puts its ttrpc socket at
 * `<address>.ttrpc`). A path that fits is returned as it is. A longer one (a node state directory deep in a home
 * directory) is reached through a short symlink to its directory, `<tmpdir>/bronze-sock-<hash of the directory>`:
 * the socket itself stays in its directory, and every process given the returned path binds and connects through
 * the link.
 */
export function shortSocketPath(path: string, suffix = '.ttrpc', linkRoot = tmpdir()): string {
  if (Buffer.byteLength(path + suffix) <= MAX_SOCKET_PATH) return path;
  const dir = dirname(path);
  const link = join(linkRoot, `${LINK_PREFIX}${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
  const short = join(link, basename(path));
  if (Buffer.byteLength(short + suffix) > MAX_SOCKET_PATH) throw new Error(`socket ${path}: the name ${basename(path)} is too long for a unix socket`);
  let target: string | undefined;
  try {
    target = readlinkSync(link);
  } catch {
    // no link yet
  }
  if (target !== dir) {
    if (target !== undefined) rmSync(link, { force: true });
    try {
      symlinkSync(dir, link);
    } catch (e) {
      // another process made the same link meanwhile
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || readlinkSync(link) !== dir) throw e;
    }
  }
  return short;
}

/**
 * Removes the short links `shortSocketPath` made to directories under `dir` (a node's state, about to be removed):
 * they would dangle in `linkRoot` once it is gone. Returns how many were removed.
 */
export function releaseShortSocketLinks(dir: string, linkRoot = tmpdir()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(linkRoot).filter((n) => n.startsWith(LINK_PREFIX));
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const rel = relative(dir, readlinkSync(join(linkRoot, name)));
      if (rel.startsWith('..') || rel.startsWith('/')) continue;
      rmSync(join(linkRoot, name), { force: true });
      removed++;
    } catch {
      // not a link, or gone meanwhile
    }
  }
  return removed;
}
