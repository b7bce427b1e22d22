import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** The deepest directory on the way to `path` that exists now (`/` at the least). */
function nearestDir(path: string): string {
  let d = dirname(path);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * Resolves with a file's text once `pred` holds for it, re-reading the file whenever its directory changes; rejects
 * after `timeoutMs` with the file's tail. The watch is not recursive (Node's recursive watch on Linux throws an
 * uncaught exception when a watched subdirectory is removed): it sits on the file's directory, or on the nearest
 * existing ancestor until that directory is created, and moves when directories appear or vanish; every new watch is
 * followed by a fresh read, since a write that landed before the watch existed raises no event. `dir` is the tree
 * the file lives in; it is kept for the callers' sake and bounds nothing.
 */
export async function waitForFile(_dir: string, path: string, pred: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const read = () => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return await new Promise<string>((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let watched = '';
    let finished = false;
    const arm = () => {
      const d = nearestDir(path);
      if (d === watched && watcher) return;
      watcher?.close();
      watched = d;
      try {
        watcher = watch(d, () => void check());
        watcher.on('error', () => {
          watcher?.close();
          watcher = undefined;
          watched = '';
          if (!finished) setImmediate(() => void check());
        });
        // the file may have been written between the last read and this watch: its events are gone, so read again
        setImmediate(() => void check());
      } catch {
        watcher = undefined;
        watched = '';
        setImmediate(() => void check());
      }
    };
    const check = () => {
      if (finished) return true;
      const text = read();
      if (!pred(text)) {
        arm();
        return false;
      }
      done();
      resolve(text);
      return true;
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${path}: condition not met within ${timeoutMs} ms; tail:\n${read().slice(-3000)}`));
    }, timeoutMs);
    const done = () => {
      finished = true;
      clearTimeout(timer);
      watcher?.close();
    };
    check();
  });
}

/** How many times `needle` occurs in `text`. */
export const occurrences = (text: string, needle: string) => text.split(needle).length - 1;
