import { chmodSync, chownSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';

/** The user a service process runs as. */
export interface ServiceUser {
  uid: number;
  gid: number;
}

/** Talos's service users: apid 50, trustd 51. */
export const APID_USER: ServiceUser = { uid: 50, gid: 50 };
export const TRUSTD_USER: ServiceUser = { uid: 51, gid: 51 };

/** Whether `user` may use `path`: search permission on every directory above it, and `need` on the path itself. */
export function reachable(user: ServiceUser, path: string, need: 'r' | 'x'): boolean {
  const bits = (mode: number, uid: number, gid: number, what: number) => {
    if (uid === user.uid) return ((mode >> 6) & what) === what;
    if (gid === user.gid) return ((mode >> 3) & what) === what;
    return (mode & what) === what;
  };
  try {
    const target = statSync(path);
    if (!bits(target.mode, target.uid, target.gid, need === 'r' ? 4 : 1)) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const s = statSync(dir);
      if (!bits(s.mode, s.uid, s.gid, 1)) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}

/**
 * The user a service should run as: `user` when machined is root and the user can read the service's program and
 * reach the directories of the sockets it talks to (they become searchable, not readable, for everyone; the files in
 * them stay private); else undefined with the reason logged, and the service runs as machined's user (a process
 * node's program may sit under a private home directory).
 */
export function serviceUser(id: string, user: ServiceUser, command: readonly string[], socketDirs: readonly string[], logger: Logger, cwd = process.cwd()): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const needs: { path: string; need: 'r' | 'x' }[] = command.filter((a) => isAbsolute(a) && isFile(a)).map((a) => ({ path: a, need: 'r' }));
  // Node's own loader options (`--import tsx`) are resolved from the working directory
  if (command.some((a) => a.startsWith('--'))) needs.push({ path: resolve(cwd), need: 'r' });
  for (const dir of socketDirs) {
    chmodSync(dir, (statSync(dir).mode & 0o7777) | 0o011);
    needs.push({ path: dir, need: 'x' });
  }
  const blocked = needs.find((f) => !reachable(user, f.path, f.need));
  if (blocked) {
    logger.warn({ service: id, uid: user.uid, path: blocked.path }, `${id} runs as machined's user: uid ${user.uid} cannot reach ${blocked.path}`);
    return undefined;
  }
  return user;
}

/** Gives a unix socket to a service's user (machined, as root, keeps access). */
export function giveSocket(socket: string, user: ServiceUser | undefined): void {
  if (!user) return;
  chownSync(socket, user.uid, user.gid);
  chmodSync(socket, 0o660);
}
