import { readFileSync, watch } from 'node:fs';

/**
 * Resolves with a file's text once `pred` holds for it, re-reading the file whenever anything under `dir` changes
 * (fs.watch, recursive); rejects after `timeoutMs` with the file's tail.
 */
export async function waitForFile(dir: string, path: string, pred: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const read = () => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return await new Promise<string>((resolve, reject) => {
    const check = () => {
      const text = read();
      if (!pred(text)) return false;
      done();
      resolve(text);
      return true;
    };
    const watcher = watch(dir, { recursive: true }, () => void check());
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${path}: condition not met within ${timeoutMs} ms; tail:\n${read().slice(-3000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      watcher.close();
    };
    check();
  });
}

/** How many times `needle` occurs in `text`. */
export const occurrences = (text: string, needle: string) => text.split(needle).length - 1;
