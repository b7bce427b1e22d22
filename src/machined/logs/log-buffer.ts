import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { LogsError } from './errors.js';

export interface LogBufferOptions {
  /** bytes kept in memory (default 1 MiB, as Talos keeps per service) */
  capacity?: number;
  /** also append everything to this file */
  file?: string;
  /** rotate the file to `<file>.1` once it grows past this many bytes (default 10 MiB; 0 = never) */
  maxFileSize?: number;
}

export interface ReadOptions {
  /** start this many lines before the end (a trailing newline does not start a line); undefined = whole buffer */
  tailLines?: number;
  /** keep streaming what is written after the end was reached */
  follow?: boolean;
  /** largest chunk handed out (default 1024, as Talos's stream chunker); chunks end at a line break when one fits */
  chunkSize?: number;
  signal?: AbortSignal;
}

const NL = 0x0a;

/**
 * A bounded log of one service: the last `capacity` bytes in memory (oldest bytes dropped first), optionally
 * mirrored to a size-capped file. Positions are absolute byte offsets since the buffer was made, so a reader that
 * is overtaken by the writer resumes at the oldest byte still kept.
 */
export class LogBuffer {
  readonly id: string;
  /** ring storage: absolute offset p lives at ring[p % ring.length]; grows from 16 KiB up to capacity */
  private ring: Buffer;
  /** absolute offset of the oldest byte held */
  private start = 0;
  /** absolute offset one past the last byte written */
  private end = 0;
  private readonly capacity: number;
  private waiters = new Set<() => void>();
  private file?: WriteStream;
  private fileSize = 0;
  private readonly filePath?: string;
  private readonly maxFileSize: number;
  private closed = false;

  constructor(id: string, opts: LogBufferOptions = {}) {
    this.id = id;
    this.capacity = opts.capacity ?? 1 << 20;
    if (!(this.capacity > 0)) throw new LogsError('BRONZE_LOGS_INVALID_OPTION', `capacity must be positive, got ${opts.capacity}`);
    this.ring = Buffer.alloc(Math.min(this.capacity, 16 * 1024));
    this.maxFileSize = opts.maxFileSize ?? 10 << 20;
    this.filePath = opts.file;
    if (this.filePath) this.openFile();
  }

  private openFile(): void {
    const path = this.filePath!;
    mkdirSync(join(path, '..'), { recursive: true });
    // opened synchronously so a rotation (rename) always moves the file this stream writes to
    const fd = openSync(path, 'a', 0o640);
    this.fileSize = fstatSync(fd).size;
    this.file = createWriteStream(path, { fd });
    this.file.on('error', () => {
      // a failing disk must not take the service down: the memory ring keeps working
      this.file = undefined;
    });
  }

  /** Copies bytes into the ring at absolute offset `at` (they must fit: length ≤ ring size). */
  private place(at: number, data: Uint8Array): void {
    const size = this.ring.length;
    const pos = at % size;
    const first = Math.min(data.length, size - pos);
    this.ring.set(data.subarray(0, first), pos);
    if (first < data.length) this.ring.set(data.subarray(first), 0);
  }

  /** Appends bytes; never blocks (the file is written asynchronously). */
  write(data: string | Uint8Array): void {
    if (this.closed) throw new LogsError('BRONZE_LOGS_CLOSED', `log ${JSON.stringify(this.id)} is closed`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length === 0) return;
    const needed = this.end - this.start + bytes.length;
    if (needed > this.ring.length && this.ring.length < this.capacity) {
      const held = this.slice(this.start);
      let size = this.ring.length;
      while (size < needed && size < this.capacity) size *= 2;
      this.ring = Buffer.alloc(Math.min(size, this.capacity));
      this.place(this.start, held);
    }
    const size = this.ring.length;
    const kept = bytes.length > size ? bytes.subarray(bytes.length - size) : bytes;
    this.place(this.end + (bytes.length - kept.length), kept);
    this.end += bytes.length;
    this.start = Math.max(this.start, this.end - size);
    if (this.file) {
      if (this.maxFileSize > 0 && this.fileSize + bytes.length > this.maxFileSize && this.fileSize > 0) this.rotate();
      this.file?.write(Buffer.from(bytes)); // a copy: callers may reuse their buffers
      this.fileSize += bytes.length;
    }
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) w();
  }

  private rotate(): void {
    const path = this.filePath!;
    this.file?.end();
    try {
      renameSync(path, `${path}.1`);
    } catch {
      // keep appending to the same file if it cannot be moved
    }
    this.openFile();
  }

  /** Oldest and next offsets held. */
  get range(): { start: number; end: number } {
    return { start: this.start, end: this.end };
  }

  /** A copy of the bytes in [from, to) that are still held (from is raised to the oldest byte). */
  slice(from: number, to = this.end): Buffer {
    from = Math.max(from, this.start);
    to = Math.min(to, this.end);
    if (from >= to) return Buffer.alloc(0);
    const size = this.ring.length;
    const a = from % size;
    const len = to - from;
    if (a + len <= size) return Buffer.from(this.ring.subarray(a, a + len));
    return Buffer.concat([this.ring.subarray(a), this.ring.subarray(0, len - (size - a))]);
  }

  /** The offset at which the last `lines` lines begin (a final newline does not open an empty line). */
  tailOffset(lines: number): number {
    if (lines <= 0) return this.end;
    const data = this.slice(this.start);
    let i = data.length - 1;
    if (i >= 0 && data[i] === NL) i--;
    let seen = 0;
    for (; i >= 0; i--) {
      if (data[i] === NL && ++seen === lines) return this.start + i + 1;
    }
    return this.start;
  }

  /** Where an overtaken reader continues: the first line that starts inside the buffer, else its oldest byte. */
  private resumeOffset(): number {
    const held = this.slice(this.start, Math.min(this.end, this.start + 64 * 1024));
    const nl = held.indexOf(NL);
    return nl >= 0 && nl + 1 < held.length ? this.start + nl + 1 : this.start;
  }

  /** Resolves on the next write, on close, or when the signal aborts. */
  private waitForData(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Reads the log as chunks. Without `follow` it ends at the current end; with it, it waits for more until the
   * signal aborts, the iterator is returned, or the buffer is closed.
   */
  async *read(opts: ReadOptions = {}): AsyncGenerator<Buffer> {
    const chunkSize = opts.chunkSize ?? 1024;
    if (!(chunkSize > 0)) throw new LogsError('BRONZE_LOGS_INVALID_OPTION', `chunkSize must be positive, got ${opts.chunkSize}`);
    let pos = opts.tailLines === undefined || opts.tailLines < 0 ? this.start : this.tailOffset(opts.tailLines);
    const stopAt = opts.follow ? Infinity : this.end;
    while (!opts.signal?.aborted) {
      if (pos < this.start) pos = this.resumeOffset(); // overtaken: continue at the oldest whole line kept
      const to = Math.min(this.end, stopAt, pos + chunkSize);
      if (pos < to) {
        let chunk = this.slice(pos, to);
        if (to - pos === chunkSize && to < this.end) {
          const nl = chunk.lastIndexOf(NL);
          if (nl >= 0) chunk = chunk.subarray(0, nl + 1);
        }
        pos += chunk.length;
        yield chunk;
        continue;
      }
      if (!opts.follow || this.closed) return;
      await this.waitForData(opts.signal);
    }
  }

  /** Stops followers and the file; further writes fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
    const file = this.file;
    this.file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
