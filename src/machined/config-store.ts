import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The machine config on disk (`config.yaml` in the STATE area, or the node's state directory on the process
 * platform). Writes are atomic: a temporary file is written and fsynced, renamed over the config, and the directory is
 * fsynced, so a crash at any moment leaves either the old or the new config, never a partial one.
 */
export class ConfigStore {
  readonly path: string;

  constructor(dir: string, name = 'config.yaml') {
    this.path = join(dir, name);
  }

  /** The stored config, or undefined when there is none. */
  read(): Buffer | undefined {
    try {
      return readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  write(data: Uint8Array): void {
    writeFileAtomic(this.path, data, 0o600);
  }

  remove(): void {
    rmSync(this.path, { force: true });
    fsyncDir(dirname(this.path));
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to `path` atomically and durably (temp file, fsync, rename, fsync of the directory). */
export function writeFileAtomic(path: string, data: Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}-tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}
