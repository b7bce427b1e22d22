import { open, type FileHandle } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { writeFileAtomicSync } from '../../sys/atomic-write.js';
import { ADV_BLOCK_SIZE, META_AREA_SIZE, advFits, advUsage, assertStorableTag, assertUint8, decodeMetaArea, encodeMetaArea } from './adv.js';
import { MetaError, fullError, keyNotFoundError } from './errors.js';

/** Hears every change once it is on disk: the new value, or undefined when the key was deleted. */
export type MetaChangeListener = (tag: number, value: Buffer | undefined) => void;

export interface MetaStoreOptions {
  /** When the path does not exist, create it as a regular file holding an empty META area; otherwise that is an error. */
  create: boolean;
  /** Called after each successful set or delete, in the order the changes were made. What it throws is ignored. */
  onChange?: MetaChangeListener;
}

/** Where the META area lives: a regular file (process platform) or a block device, the META partition (metal). */
export type MetaBacking = 'file' | 'block-device';

/**
 * The META key/value store: keys 1..255, byte values, kept in Talos's ADV format (see adv.ts).
 *
 * Every set and delete is written out before its promise resolves. A regular file is replaced atomically (temporary
 * file, fsync, rename, fsync of the directory); the store owns the whole file, so anything past the two copies is
 * dropped on the first write. A block device is overwritten in place, one copy at a time with an fsync after each, so
 * a crash mid-write leaves at least one intact copy. Changes run one at a time in call order, and the in-memory view
 * changes only once the write succeeded.
 */
export class MetaStore {
  readonly path: string;
  readonly backing: MetaBacking;
  private values: ReadonlyMap<number, Buffer>;
  private tail: Promise<void> = Promise.resolve();
  private readonly listener: MetaChangeListener | undefined;

  private constructor(path: string, backing: MetaBacking, values: ReadonlyMap<number, Buffer>, listener: MetaChangeListener | undefined) {
    this.path = path;
    this.backing = backing;
    this.values = values;
    this.listener = listener;
  }

  /**
   * Opens the META area at `path` and reads it. Throws MetaError BRONZE_META_MISSING (path absent, `create` unset),
   * BRONZE_META_UNSUPPORTED_PATH (neither regular file nor block device) or BRONZE_META_CORRUPT (both copies unreadable
   * and the area not blank); an empty or all-zero area is an empty store.
   */
  static async open(path: string, options: MetaStoreOptions): Promise<MetaStore> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!options.create) throw new MetaError('BRONZE_META_MISSING', status.FAILED_PRECONDITION, `meta: ${path} does not exist`, { cause: e });
      writeFileAtomicSync(path, encodeMetaArea(new Map()), 0o600);
      return new MetaStore(path, 'file', new Map(), options.onChange);
    }
    try {
      const st = await fh.stat();
      const backing: MetaBacking | undefined = st.isBlockDevice() ? 'block-device' : st.isFile() ? 'file' : undefined;
      if (backing === undefined) {
        throw new MetaError('BRONZE_META_UNSUPPORTED_PATH', status.FAILED_PRECONDITION, `meta: ${path} is neither a regular file nor a block device`);
      }
      const area = Buffer.alloc(META_AREA_SIZE);
      const length = await readUpTo(fh, area);
      const values = length === 0 ? new Map<number, Buffer>() : decodeMetaArea(area);
      return new MetaStore(path, backing, values, options.onChange);
    } finally {
      await fh.close();
    }
  }

  /** A copy of the value of `tag`, or undefined when it has none (also for keys that cannot exist). */
  get(tag: number): Buffer | undefined {
    const v = this.values.get(tag);
    return v === undefined ? undefined : Buffer.from(v);
  }

  has(tag: number): boolean {
    return this.values.has(tag);
  }

  /** Every key with a copy of its value, in ascending key order. */
  entries(): [number, Buffer][] {
    return [...this.values.entries()].sort(([a], [b]) => a - b).map(([tag, v]) => [tag, Buffer.from(v)]);
  }

  /** The bytes the values take in a block, out of ADV_DATA_SIZE. */
  get usage(): number {
    return advUsage(this.values);
  }

  /**
   * Sets `tag` to a copy of `value` and writes the area out. Rejects with MetaError BRONZE_META_INVALID_KEY or
   * BRONZE_META_RESERVED_KEY (InvalidArgument) for a bad key, BRONZE_META_FULL (ResourceExhausted) when the values would
   * not fit, or the I/O error of a failed write; in every case the store is left as it was.
   */
  async set(tag: number, value: Uint8Array): Promise<void> {
    assertStorableTag(tag);
    const copy = Buffer.from(value);
    return this.serialize(async () => {
      const next = new Map(this.values);
      next.set(tag, copy);
      if (!advFits(next)) throw fullError();
      await this.write(next);
      this.values = next;
      this.notify(tag, copy);
    });
  }

  /**
   * Deletes `tag` and writes the area out. Rejects with MetaError BRONZE_META_INVALID_KEY (InvalidArgument) for a key
   * outside 0..255, BRONZE_META_KEY_NOT_FOUND (NotFound) when the key has no value (key 0 never has one), or the I/O
   * error of a failed write; in every case the store is left as it was.
   */
  async delete(tag: number): Promise<void> {
    assertUint8(tag);
    return this.serialize(async () => {
      if (!this.values.has(tag)) throw keyNotFoundError();
      const next = new Map(this.values);
      next.delete(tag);
      await this.write(next);
      this.values = next;
      this.notify(tag, undefined);
    });
  }

  /** Resolves once every set and delete called so far has finished (whether it succeeded or not). */
  flush(): Promise<void> {
    return this.tail;
  }

  private serialize(op: () => Promise<void>): Promise<void> {
    const run = this.tail.then(op);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async write(values: ReadonlyMap<number, Buffer>): Promise<void> {
    const area = encodeMetaArea(values);
    if (this.backing === 'file') {
      writeFileAtomicSync(this.path, area, 0o600);
      return;
    }
    const fh = await open(this.path, 'r+');
    try {
      await writeAt(fh, area.subarray(0, ADV_BLOCK_SIZE), 0);
      await fh.sync();
      await writeAt(fh, area.subarray(ADV_BLOCK_SIZE), ADV_BLOCK_SIZE);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private notify(tag: number, value: Buffer | undefined): void {
    if (this.listener === undefined) return;
    try {
      this.listener(tag, value === undefined ? undefined : Buffer.from(value));
    } catch {
      // The change is already durable; a failing listener must not make it look failed.
    }
  }
}

/** Reads from offset 0 until `buf` is full or the file ends; returns the bytes read. */
async function readUpTo(fh: FileHandle, buf: Buffer): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

async function writeAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
