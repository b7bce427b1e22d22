import { open, readFile } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { writeFileAtomicSync } from '../atomic-write.js';
import { ADV_CAPACITY, advUsage, decodeMeta, encodeMeta, META_SIZE } from './adv.js';

/** Talos's META tags with names. */
export const MetaTags = {
  Upgrade: 0x06,
  StagedUpgradeImageRef: 0x07,
  StagedUpgradeInstallOptions: 0x08,
  StateEncryptionConfig: 0x09,
  MetalNetworkPlatformConfig: 0x0a,
  DownloadURLCode: 0x0b,
  UserReserved1: 0x0c,
  UserReserved2: 0x0d,
  UserReserved3: 0x0e,
  UUIDOverride: 0x0f,
  UniqueMachineToken: 0x10,
  DiskImageBootloader: 0x11,
} as const;

/** The id of a tag's MetaKeys resource: `0x0a`. */
export const metaKeyID = (tag: number) => `0x${tag.toString(16).padStart(2, '0')}`;

/** A META refusal, with the gRPC code and message Talos answers with. */
export class MetaError extends Error {
  constructor(
    readonly code: 'BRONZE_META_KEY' | 'BRONZE_META_NOT_FOUND' | 'BRONZE_META_FULL',
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'MetaError';
  }
}

/**
 * The META key/value store over a file (the process platform) or a partition (metal): two ADV copies, rewritten on
 * every change (a file atomically; a partition in place, then fsynced), one change at a time. `onChange` hears every
 * tag written or deleted.
 */
export class MetaStore {
  private values = new Map<number, Buffer>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly device: boolean,
    private readonly onChange?: (tag: number, value: Buffer | undefined) => void,
  ) {}

  static async open(path: string, opts: { onChange?: (tag: number, value: Buffer | undefined) => void } = {}): Promise<MetaStore> {
    let device = false;
    let data: Buffer | undefined;
    try {
      const fh = await open(path, 'r');
      try {
        device = (await fh.stat()).isBlockDevice();
      } finally {
        await fh.close();
      }
      data = device ? await readHead(path) : await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const store = new MetaStore(path, device, opts.onChange);
    if (data && data.length > 0) store.values = decodeMeta(data);
    return store;
  }

  get(tag: number): Buffer | undefined {
    return this.values.get(tag);
  }

  entries(): [number, Buffer][] {
    return [...this.values.entries()].sort(([a], [b]) => a - b);
  }

  set(tag: number, value: Uint8Array): Promise<void> {
    return this.serialize(async () => {
      checkTag(tag);
      const next = new Map(this.values);
      next.set(tag, Buffer.from(value));
      if (advUsage(next) > ADV_CAPACITY) throw new MetaError('BRONZE_META_FULL', status.RESOURCE_EXHAUSTED, 'meta write failed');
      await this.persist(next);
      this.onChange?.(tag, next.get(tag));
    });
  }

  delete(tag: number): Promise<void> {
    return this.serialize(async () => {
      checkTag(tag);
      if (!this.values.has(tag)) throw new MetaError('BRONZE_META_NOT_FOUND', status.NOT_FOUND, 'meta key not found');
      const next = new Map(this.values);
      next.delete(tag);
      await this.persist(next);
      this.onChange?.(tag, undefined);
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async persist(next: Map<number, Buffer>): Promise<void> {
    const area = encodeMeta(next);
    if (this.device) {
      const fh = await open(this.path, 'r+');
      try {
        await fh.write(area, 0, area.length, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } else {
      writeFileAtomicSync(this.path, area, 0o600);
    }
    this.values = next;
  }
}

function checkTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 255) throw new MetaError('BRONZE_META_KEY', status.INVALID_ARGUMENT, 'key must be a uint8');
  if (tag === 0) throw new MetaError('BRONZE_META_KEY', status.INVALID_ARGUMENT, 'meta key 0 is reserved');
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(META_SIZE);
    const { bytesRead } = await fh.read(buf, 0, META_SIZE, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
