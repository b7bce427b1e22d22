import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** A filesystem recognised from its superblock. */
export interface ProbedFilesystem {
  /** the kernel's name for it, as mount(2) takes it */
  type: 'xfs' | 'ext4' | 'ext3' | 'ext2' | 'vfat';
  /** the filesystem label ('' when it has none) */
  label: string;
  /** the filesystem UUID as blkid prints it ('' when the filesystem has none) */
  uuid: string;
}

/** A block device of the machine that holds a recognised filesystem. */
export interface ProbedDevice extends ProbedFilesystem {
  /** the kernel's name (`vda`, `sda1`, `nvme0n1p5`) */
  name: string;
  /** its node under /dev */
  device: string;
  /** bytes */
  size: number;
}

/** How many bytes of a device the probe reads: every superblock it knows lies within the first 4 KiB. */
export const PROBE_BYTES = 4096;

const XFS_MAGIC = 'XFSB';
const EXT_SUPERBLOCK = 1024;
const EXT_MAGIC = 0xef53;
// ext feature bits: a journal makes ext3; extents, 64-bit, flexible groups or huge files make ext4
const EXT_COMPAT_HAS_JOURNAL = 0x4;
const EXT_INCOMPAT_EXT4 = 0x40 | 0x80 | 0x200;
const EXT_RO_COMPAT_EXT4 = 0x8 | 0x10 | 0x40;

/** A NUL-padded label field as text (trailing NULs and, for FAT, spaces cut). */
function labelAt(buf: Buffer, offset: number, length: number, trimSpaces = false): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  const text = field.subarray(0, end < 0 ? field.length : end).toString('utf8');
  return trimSpaces ? text.trimEnd() : text;
}

/** 16 bytes as a UUID (8-4-4-4-12); '' when all are zero. */
function uuidAt(buf: Buffer, offset: number): string {
  const b = buf.subarray(offset, offset + 16);
  if (b.every((x) => x === 0)) return '';
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function probeXFS(buf: Buffer): ProbedFilesystem | undefined {
  // the primary superblock starts the device: magic at 0, UUID at 32, the 12-byte label at 108
  if (buf.length < 120 || buf.toString('latin1', 0, 4) !== XFS_MAGIC) return undefined;
  return { type: 'xfs', label: labelAt(buf, 108, 12), uuid: uuidAt(buf, 32) };
}

function probeExt(buf: Buffer): ProbedFilesystem | undefined {
  // the superblock sits 1024 bytes in: magic at 56, features at 92 (compat), 96 (incompat), 100 (ro-compat),
  // UUID at 104, the 16-byte volume name at 120
  const sb = EXT_SUPERBLOCK;
  if (buf.length < sb + 136 || buf.readUInt16LE(sb + 56) !== EXT_MAGIC) return undefined;
  const compat = buf.readUInt32LE(sb + 92);
  const incompat = buf.readUInt32LE(sb + 96);
  const roCompat = buf.readUInt32LE(sb + 100);
  const type = incompat & EXT_INCOMPAT_EXT4 || roCompat & EXT_RO_COMPAT_EXT4 ? 'ext4' : compat & EXT_COMPAT_HAS_JOURNAL ? 'ext3' : 'ext2';
  return { type, label: labelAt(buf, sb + 120, 16), uuid: uuidAt(buf, sb + 104) };
}

function probeFAT(buf: Buffer): ProbedFilesystem | undefined {
  // a FAT boot sector ends in 55 AA and names its type: FAT32 at 82 (label at 71, serial at 67), FAT12/16 at 54
  // (label at 43, serial at 39)
  if (buf.length < 512 || buf[510] !== 0x55 || buf[511] !== 0xaa) return undefined;
  const at = buf.toString('latin1', 82, 87) === 'FAT32' ? { label: 71, serial: 67 } : buf.toString('latin1', 54, 57) === 'FAT' ? { label: 43, serial: 39 } : undefined;
  if (!at) return undefined;
  const label = labelAt(buf, at.label, 11, true);
  const serial = buf.readUInt32LE(at.serial).toString(16).toUpperCase().padStart(8, '0');
  return { type: 'vfat', label: label === 'NO NAME' ? '' : label, uuid: `${serial.slice(0, 4)}-${serial.slice(4)}` };
}

/** The filesystem whose superblock starts `buf` (the first PROBE_BYTES of a device), or undefined. */
export function probeFilesystem(buf: Buffer): ProbedFilesystem | undefined {
  return probeXFS(buf) ?? probeExt(buf) ?? probeFAT(buf);
}

export interface ScanOptions {
  /** the kernel's block devices (default /sys/class/block) */
  sysBlock?: string;
  /** where their nodes are (default /dev) */
  devDir?: string;
}

/** Devices never probed: RAM and loop devices (the root image is on one), optical drives. */
const SKIPPED = /^(loop|ram|zram|sr|fd)\d/;

/** Reads the first PROBE_BYTES of a device (fewer when it is smaller). */
function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    const n = readSync(fd, buf, 0, PROBE_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * The machine's block devices (whole disks and partitions) that hold a filesystem this probe knows, sorted by name.
 * Devices of no size, that cannot be opened (an empty drive) or hold nothing recognised are left out; `onSkip` hears why.
 */
export function scanBlockDevices(opts: ScanOptions & { onSkip?: (name: string, why: string) => void } = {}): ProbedDevice[] {
  const sysBlock = opts.sysBlock ?? '/sys/class/block';
  const devDir = opts.devDir ?? '/dev';
  const found: ProbedDevice[] = [];
  for (const name of readdirSync(sysBlock).sort()) {
    if (SKIPPED.test(name)) continue;
    let sectors: number;
    try {
      sectors = Number(readFileSync(join(sysBlock, name, 'size'), 'utf8').trim());
    } catch (e) {
      opts.onSkip?.(name, `no size: ${(e as Error).message}`);
      continue;
    }
    // sysfs counts 512-byte sectors whatever the device's own sector size
    if (!Number.isFinite(sectors) || sectors <= 0) continue;
    const device = join(devDir, name);
    let fs: ProbedFilesystem | undefined;
    try {
      fs = probeFilesystem(head(device));
    } catch (e) {
      opts.onSkip?.(name, `cannot read ${device}: ${(e as Error).message}`);
      continue;
    }
    if (fs) found.push({ ...fs, name, device, size: sectors * 512 });
  }
  return found;
}
