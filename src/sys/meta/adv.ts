import { createHash } from 'node:crypto';

/** Talos's ADV: one 256 KiB block per copy; META holds two copies, one after the other. */
export const ADV_SIZE = 256 * 1024;
export const META_SIZE = 2 * ADV_SIZE;
const MAGIC1 = 0x5a4b3c2d;
const MAGIC2 = 0xa5b4c3d2;
const CHECKSUM_AT = ADV_SIZE - 36;
/** Bytes the tags may take: the block less the two magics and the checksum. */
export const ADV_CAPACITY = ADV_SIZE - 40;

export class ADVError extends Error {
  constructor(
    readonly code: 'BRONZE_ADV_MAGIC' | 'BRONZE_ADV_CHECKSUM' | 'BRONZE_ADV_TRUNCATED' | 'BRONZE_ADV_FULL',
    message: string,
  ) {
    super(message);
    this.name = 'ADVError';
  }
}

/** How many bytes these values take in a block (8 bytes of tag and size each). */
export const advUsage = (values: ReadonlyMap<number, Uint8Array>) => [...values.values()].reduce((n, v) => n + 8 + v.length, 0);

/** One ADV block: magic, `{tag, size, value}` records (tag 0 ends them), SHA-256 of the block, magic (big-endian). */
export function encodeADV(values: ReadonlyMap<number, Uint8Array>): Buffer {
  if (advUsage(values) > ADV_CAPACITY) throw new ADVError('BRONZE_ADV_FULL', `the values take ${advUsage(values)} bytes, more than the ${ADV_CAPACITY} a block holds`);
  const b = Buffer.alloc(ADV_SIZE);
  b.writeUInt32BE(MAGIC1, 0);
  let off = 4;
  for (const tag of [...values.keys()].sort((x, y) => x - y)) {
    const v = values.get(tag)!;
    b.writeUInt32BE(tag, off);
    b.writeUInt32BE(v.length, off + 4);
    Buffer.from(v).copy(b, off + 8);
    off += 8 + v.length;
  }
  b.writeUInt32BE(MAGIC2, ADV_SIZE - 4);
  createHash('sha256').update(b).digest().copy(b, CHECKSUM_AT);
  return b;
}

/** Reads one ADV block; throws ADVError when its magics or checksum are wrong or a record runs past the data. */
export function decodeADV(block: Uint8Array): Map<number, Buffer> {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  if (b.length < ADV_SIZE || b.readUInt32BE(0) !== MAGIC1 || b.readUInt32BE(ADV_SIZE - 4) !== MAGIC2) throw new ADVError('BRONZE_ADV_MAGIC', 'not an ADV block (bad magic)');
  const copy = Buffer.from(b.subarray(0, ADV_SIZE));
  const sum = Buffer.from(copy.subarray(CHECKSUM_AT, CHECKSUM_AT + 32));
  copy.fill(0, CHECKSUM_AT, CHECKSUM_AT + 32);
  if (!createHash('sha256').update(copy).digest().equals(sum)) throw new ADVError('BRONZE_ADV_CHECKSUM', 'ADV block checksum mismatch');
  const values = new Map<number, Buffer>();
  let off = 4;
  while (off + 8 <= CHECKSUM_AT) {
    const tag = b.readUInt32BE(off);
    if (tag === 0) break;
    const size = b.readUInt32BE(off + 4);
    if (off + 8 + size > CHECKSUM_AT) throw new ADVError('BRONZE_ADV_TRUNCATED', `ADV tag ${tag} runs past the end of the data`);
    values.set(tag, Buffer.from(b.subarray(off + 8, off + 8 + size)));
    off += 8 + size;
  }
  return values;
}

/** Both copies of META. */
export const encodeMeta = (values: ReadonlyMap<number, Uint8Array>) => {
  const block = encodeADV(values);
  return Buffer.concat([block, block]);
};

/** META's values: the first copy, else the second; an area of zeros (never written) is empty. */
export function decodeMeta(area: Uint8Array): Map<number, Buffer> {
  const b = Buffer.from(area.buffer, area.byteOffset, area.byteLength);
  try {
    return decodeADV(b.subarray(0, ADV_SIZE));
  } catch (first) {
    try {
      return decodeADV(b.subarray(ADV_SIZE, META_SIZE));
    } catch {
      if (b.every((x) => x === 0)) return new Map();
      throw first;
    }
  }
}
