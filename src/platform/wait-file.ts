import { existsSync, type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Resolves true once `path` exists (at once when it does already), or false when `timeoutMs` passes first. It watches
 * the parent directory, so nothing polls; a parent that does not exist yet only leaves the deadline.
 */
export function waitForFile(path: string, timeoutMs: number): Promise<boolean> {
  if (existsSync(path)) return Promise.resolve(true);
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined;
    let settled = false;
    const settle = (found: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher?.close();
      resolve(found);
    };
    const timer = setTimeout(() => settle(existsSync(path)), timeoutMs);
    const name = basename(path);
    try {
      watcher = watch(dirname(path), (_event, changed) => {
        if ((changed === null || changed === name) && existsSync(path)) settle(true);
      });
      watcher.on('error', () => undefined);
    } catch {
      // no parent directory: only the deadline is left
    }
    // created between the first look and the watch
    if (existsSync(path)) settle(true);
  });
}
