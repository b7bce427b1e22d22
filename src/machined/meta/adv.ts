import { createHash } from 'node:crypto';
import { corruptError, fullError, invalidKeyError, reservedKeyError } from './errors.js';

/*
 * The META area in Talos's "ADV" format. The area starts with two identical 256 KiB blocks (the second one is the
 * fallback when the first is damaged). Each block, all integers big-endian:
 *
 *   0x00000            uint32 magic 0x5a4b3c2d
 *   0x00004            records: uint32 tag, uint32 size, `size` bytes of value; a record whose tag is 0 ends them
 *   BLOCK - 36         32 bytes: SHA-256 of the whole block, computed while these 32 bytes are zero
 *   BLOCK - 4          uint32 magic 0xa5b4c3d2
 *
 * Talos also keeps a small syslinux-style ADV at the very end of the META partition for old bootloaders. Nothing in
 * Bronze reads it and Talos itself prefers the blocks above, so it is neither read nor written here.
 */

/** The length of one ADV block. */
export const ADV_BLOCK_SIZE = 256 * 1024;
/** The length of the META area this module reads and writes: two copies of the block. */
export const META_AREA_SIZE = 2 * ADV_BLOCK_SIZE;
/** The bytes one block has for records: the block less the two magics and the checksum. */
export const ADV_DATA_SIZE = ADV_BLOCK_SIZE - 40;
/** The magic number a block starts with. */
export const ADV_MAGIC1 = 0x5a4b3c2d;
/** The magic number a block ends with. */
export const ADV_MAGIC2 = 0xa5b4c3d2;

const DATA_START = 4;
const CHECKSUM_START = ADV_BLOCK_SIZE - 36;
const CHECKSUM_END = ADV_BLOCK_SIZE - 4;
const RECORD_HEADER = 8;

/** Talos's well-known META keys, by the names Talos gives them. */
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

export type MetaTagName = keyof typeof MetaTags;

/** Throws the API's InvalidArgument refusal unless `tag` is an integer in 0..255. */
export function assertUint8(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff) throw invalidKeyError();
}

/** Throws the API's InvalidArgument refusal unless `tag` can hold a value (1..255). */
export function assertStorableTag(tag: number): void {
  assertUint8(tag);
  if (tag === 0) throw reservedKeyError();
}

/** The id of a key's resource in the COSI mirror: `0x` and two lowercase hex digits, e.g. `0x0a`. */
export function metaKeyID(tag: number): string {
  assertUint8(tag);
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

/** The bytes these values take in a block's data area: an 8-byte record header plus the value, per tag. */
export function advUsage(values: ReadonlyMap<number, Uint8Array>): number {
  let used = 0;
  for (const v of values.values()) used += RECORD_HEADER + v.length;
  return used;
}

/** Whether these values fit in one block. */
export const advFits = (values: ReadonlyMap<number, Uint8Array>): boolean => advUsage(values) <= ADV_DATA_SIZE;

/** SHA-256 of a block as if its checksum field were zero, without copying the block. */
function blockChecksum(block: Uint8Array): Buffer {
  return createHash('sha256')
    .update(block.subarray(0, CHECKSUM_START))
    .update(Buffer.alloc(CHECKSUM_END - CHECKSUM_START))
    .update(block.subarray(CHECKSUM_END, ADV_BLOCK_SIZE))
    .digest();
}

/**
 * One ADV block holding `values`, records in ascending tag order. Throws MetaError BRONZE_META_INVALID_KEY or
 * BRONZE_META_RESERVED_KEY for a tag that cannot be stored, BRONZE_META_FULL when the values do not fit.
 */
export function encodeADV(values: ReadonlyMap<number, Uint8Array>): Buffer {
  for (const tag of values.keys()) assertStorableTag(tag);
  if (!advFits(values)) throw fullError();
  const block = Buffer.alloc(ADV_BLOCK_SIZE);
  block.writeUInt32BE(ADV_MAGIC1, 0);
  let at = DATA_START;
  for (const tag of [...values.keys()].sort((a, b) => a - b)) {
    const value = values.get(tag) as Uint8Array;
    block.writeUInt32BE(tag, at);
    block.writeUInt32BE(value.length, at + 4);
    block.set(value, at + RECORD_HEADER);
    at += RECORD_HEADER + value.length;
  }
  // The terminator (tag 0) is already there: the block starts zeroed. A block filled to the last byte has no room for
  // it, and readers stop at the end of the data area instead.
  block.writeUInt32BE(ADV_MAGIC2, CHECKSUM_END);
  blockChecksum(block).copy(block, CHECKSUM_START);
  return block;
}

/**
 * The values in one ADV block (copied out of it). Throws MetaError with code BRONZE_META_BAD_LENGTH,
 * BRONZE_META_BAD_MAGIC, BRONZE_META_BAD_CHECKSUM, BRONZE_META_TRUNCATED or BRONZE_META_BAD_TAG when the block is
 * damaged. A tag that appears twice keeps its last value.
 */
export function decodeADV(block: Uint8Array): Map<number, Buffer> {
  if (block.length !== ADV_BLOCK_SIZE) {
    throw corruptError('BRONZE_META_BAD_LENGTH', `meta: block is ${block.length} bytes, expected ${ADV_BLOCK_SIZE}`);
  }
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const magic1 = b.readUInt32BE(0);
  const magic2 = b.readUInt32BE(CHECKSUM_END);
  if (magic1 !== ADV_MAGIC1 || magic2 !== ADV_MAGIC2) {
    throw corruptError('BRONZE_META_BAD_MAGIC', `meta: bad block magic ${hex32(magic1)}/${hex32(magic2)}, expected ${hex32(ADV_MAGIC1)}/${hex32(ADV_MAGIC2)}`);
  }
  if (!blockChecksum(b).equals(b.subarray(CHECKSUM_START, CHECKSUM_END))) {
    throw corruptError('BRONZE_META_BAD_CHECKSUM', 'meta: block checksum mismatch');
  }
  const values = new Map<number, Buffer>();
  let at = DATA_START;
  while (at + RECORD_HEADER <= CHECKSUM_START) {
    const tag = b.readUInt32BE(at);
    if (tag === 0) break;
    if (tag > 0xff) throw corruptError('BRONZE_META_BAD_TAG', `meta: record at offset ${at} has tag ${tag}, not a uint8`);
    const size = b.readUInt32BE(at + 4);
    const end = at + RECORD_HEADER + size;
    if (end > CHECKSUM_START) {
      throw corruptError('BRONZE_META_TRUNCATED', `meta: value of tag ${tag} (${size} bytes at offset ${at + RECORD_HEADER}) runs past the data area`);
    }
    values.set(tag, Buffer.from(b.subarray(at + RECORD_HEADER, end)));
    at = end;
  }
  return values;
}

/** The META area for `values`: the same block twice (512 KiB). Throws as encodeADV does. */
export function encodeMetaArea(values: ReadonlyMap<number, Uint8Array>): Buffer {
  const block = encodeADV(values);
  const area = Buffer.allocUnsafe(META_AREA_SIZE);
  block.copy(area, 0);
  block.copy(area, ADV_BLOCK_SIZE);
  return area;
}

/**
 * The values in a META area: those of the first copy, else those of the second. An empty or all-zero area (never
 * written) holds no values. Otherwise, when neither copy is readable, throws MetaError BRONZE_META_CORRUPT with the
 * first copy's error as its cause. Bytes past the two copies are ignored.
 */
export function decodeMetaArea(area: Uint8Array): Map<number, Buffer> {
  const first = tryDecode(area.subarray(0, ADV_BLOCK_SIZE));
  if (first instanceof Map) return first;
  const second = tryDecode(area.subarray(ADV_BLOCK_SIZE, META_AREA_SIZE));
  if (second instanceof Map) return second;
  if (isBlank(area.subarray(0, META_AREA_SIZE))) return new Map();
  throw corruptError('BRONZE_META_CORRUPT', `meta: both copies are unreadable (first: ${first.message}; second: ${second.message})`, first);
}

function tryDecode(block: Uint8Array): Map<number, Buffer> | Error {
  try {
    return decodeADV(block);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
