import { watch } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

const BLOCK = 64 * 1024;

/**
 * The offset where the last `n` lines of a file start (a last line without its newline counts), found by reading
 * backwards a block at a time.
 */
export async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let end = size;
  let newlines = 0;
  // a newline ending the file closes the last line rather than starting an empty one
  let skipLast = false;
  if (size > 0) {
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    skipLast = last[0] === 0x0a;
  }
  const buf = Buffer.alloc(BLOCK);
  while (end > 0) {
    const start = Math.max(0, end - BLOCK);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      if (skipLast && start + i === size - 1) continue;
      if (++newlines === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

export interface ReadFileOptions {
  /** only the last lines (all when undefined or negative) */
  tailLines?: number;
  /** go on with what is written to the file until the signal aborts */
  follow?: boolean;
  signal?: AbortSignal;
}

/**
 * Reads a log file in chunks: from its last `tailLines` lines, then (with `follow`) whatever is appended, woken by
 * the file's change events. A file truncated meanwhile (rotated in place) is read again from its start.
 */
export async function* readLogFile(path: string, opts: ReadFileOptions = {}): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const signal = opts.signal;
  let wake: (() => void) | undefined;
  let changed = false;
  const watcher = opts.follow
    ? watch(path, { persistent: false }, () => {
        changed = true;
        wake?.();
      })
    : undefined;
  watcher?.on('error', () => undefined);
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    let { size } = await fh.stat();
    let pos = opts.tailLines === undefined || opts.tailLines < 0 ? 0 : await tailOffset(fh, size, opts.tailLines);
    const buf = Buffer.alloc(BLOCK);
    for (;;) {
      if (signal?.aborted) return;
      changed = false;
      const { bytesRead } = await fh.read(buf, 0, BLOCK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        yield Buffer.from(buf.subarray(0, bytesRead));
        continue;
      }
      if (!opts.follow) return;
      size = (await fh.stat()).size;
      if (size < pos) {
        pos = 0;
        continue;
      }
      if (size > pos || changed) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (changed || signal?.aborted) resolve();
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    await fh.close();
  }
}
