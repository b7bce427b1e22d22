import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { State } from '../../cosi/state.js';
import type { LogManager } from '../logs/index.js';
import type { SystemCgroup } from '../supervisor/system-cgroups.js';

/** What service definitions need from the node. */
export interface ServiceContext {
  state: State;
  logs: LogManager;
  logger: Logger;
  /**
   * The node's system directories: `/system/run`, `/system/var`, `/run`, `/etc` and `/var` on metal; under the state
   * directory on the process platform.
   */
  paths: { systemRun: string; systemVar: string; run: string; etc: string; var: string };
  /** the executable of a program, or undefined when the node does not have it */
  which(name: string): string | undefined;
  /** where a service's processes go in the node's cgroup layout (under `root`); undefined where the node has none */
  cgroup?(group: SystemCgroup): { path: SystemCgroup; root: string; system: true } | undefined;
}

/** Looks a program up in `path` (default: $PATH and the usual sbin directories). */
export function which(name: string, path = `${process.env.PATH ?? ''}${delimiter}/usr/local/sbin${delimiter}/usr/sbin${delimiter}/sbin${delimiter}/lib/systemd`): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
