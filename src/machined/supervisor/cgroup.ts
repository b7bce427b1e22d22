import { accessSync, constants, mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../sys/errors.js';

/** statfs f_type of a cgroup v2 mount. */
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Where cgroup v2 is mounted on a node (unified hierarchy). */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Whether services can get cgroups under `root`: it must be a writable cgroup v2 mount. Returns the reason when not
 * (the runner logs it and runs the service without a cgroup).
 */
export function cgroupUnavailableReason(root = CGROUP_ROOT): string | undefined {
  try {
    const st = statfsSync(root);
    if (st.type !== CGROUP2_SUPER_MAGIC) return `${root} is not a cgroup v2 mount`;
    accessSync(root, constants.W_OK);
    return undefined;
  } catch (e) {
    return `${root}: ${(e as Error).message}`;
  }
}

/** A service's cgroup v2 directory. */
export class Cgroup {
  readonly path: string;

  constructor(root: string, relative: string) {
    const clean = relative.replace(/^\/+/, '');
    if (clean === '' || clean.split('/').some((p) => p === '..' || p === '.')) throw new Error(`invalid cgroup path ${JSON.stringify(relative)}`);
    this.path = join(root, clean);
  }

  /** Makes the directory (synchronously, as `add`: see createSystemCgroup). */
  create(): void {
    mkdirSync(this.path, { recursive: true });
  }

  /** Moves a process in; a process that already exited is not an error. */
  add(pid: number): void {
    try {
      writeFileSync(join(this.path, 'cgroup.procs'), `${pid}\n`);
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw e;
    }
  }

  async pids(): Promise<number[]> {
    try {
      const text = await readFile(join(this.path, 'cgroup.procs'), 'utf8');
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Kills every process left in the cgroup (cgroup.kill where the kernel has it, else SIGKILL one by one). */
  async kill(): Promise<void> {
    try {
      await writeFile(join(this.path, 'cgroup.kill'), '1\n');
      return;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && (await this.pids()).length === 0) return;
    }
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  /** Removes the directory; EBUSY (processes still exiting) and ENOENT are ignored. */
  async remove(): Promise<void> {
    try {
      await rmdir(this.path);
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOENT' && code !== 'EBUSY') throw e;
    }
  }
}
