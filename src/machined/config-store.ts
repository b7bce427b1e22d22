import { closeSync, fsyncSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../sys/atomic-write.js';

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
    writeFileAtomicSync(this.path, data, 0o600);
  }

  remove(): void {
    rmSync(this.path, { force: true });
    const fd = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

