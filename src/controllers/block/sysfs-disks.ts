import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { type DiskSpec, prettyBytes } from '../../resources/block/disk.js';

/** Where the kernel's view of the block devices is read from (a fake tree in tests). */
export interface BlockPaths {
  /** where sysfs is mounted (default `/sys`) */
  sysfs: string;
  /** the directory udev keeps its `by-*` links in (default `/dev/disk`) */
  devDisk: string;
}

export const HOST_BLOCK_PATHS: BlockPaths = { sysfs: '/sys', devDisk: '/dev/disk' };

/** Finds a disk's serial number when sysfs has none (SATA disks): udev's ata_id / scsi_id, as Talos does. */
export type SerialHelper = (id: string, transport: string, signal?: AbortSignal) => Promise<string>;

/** The ram disks' major number (/dev/ramN): never reported. */
const RAM_MAJOR = 1;
const SECTOR = 512;
/** SCSI peripheral type of a CD/DVD drive (`device/type`). */
const SCSI_TYPE_ROM = '5';

async function text(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function link(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

const powerOfTwo = (n: number) => n > 0 && Number.isInteger(Math.log2(n));

/** A path inside the tree as the node names it: the `root` prefix becomes `as` (`/sys`, `/dev/disk`). */
function rebase(path: string, root: string, as: string): string {
  return path === root ? as : path.startsWith(`${root}/`) ? `${as}${path.slice(root.length)}` : path;
}

/**
 * How the disk is attached, as go-blockdevice tells it: by name for NVMe, virtio and MMC, else by the SCSI host the
 * device hangs off (`sas`, `fc`, `iscsi`, `usb`, `sata`/`ata` by the host's driver, `virtio` for virtio-scsi).
 */
async function transportOf(paths: BlockPaths, sysDev: string, deviceName: string): Promise<string> {
  if (deviceName.startsWith('nvme')) return 'nvme';
  if (deviceName.startsWith('vd')) return 'virtio';
  if (deviceName.startsWith('mmcblk')) return 'mmc';
  const target = await link(join(sysDev, 'device'));
  if (target === undefined) return '';
  const scsiAddress = basename(target);
  const host = /^(\d+):/.exec(scsiAddress)?.[1];
  if (host === undefined) return '';
  const hostClass = (kind: string) => join(paths.sysfs, 'class', `${kind}_host`, `host${host}`);
  const scsiDevice = join(paths.sysfs, 'bus', 'scsi', 'devices', scsiAddress);
  if (await isDir(hostClass('sas'))) return 'sas';
  if (await isDir(hostClass('fc'))) return 'fc';
  if (await exists(join(scsiDevice, 'ieee1394_id'))) return 'ibp';
  if (await isDir(hostClass('iscsi'))) return 'iscsi';
  if ((await link(scsiDevice))?.includes('usb')) return 'usb';
  if (await isDir(hostClass('scsi'))) {
    const proc = await text(join(hostClass('scsi'), 'proc_name'));
    if (proc === 'ahci' || proc === 'sata') return 'sata';
    if (proc.includes('ata')) return 'ata';
    if (proc === 'virtio_scsi') return 'virtio';
  }
  return '';
}

/** A device-mapper device private to LVM (`LVM-<vg uuid>-<lv uuid>-...` with a suffix): not a disk of its own. */
async function isPrivateDeviceMapper(sysDev: string): Promise<boolean> {
  const uuid = await text(join(sysDev, 'dm', 'uuid'));
  const [prefix, ...rest] = uuid.split('-');
  return prefix === 'LVM' && rest.length >= 2;
}

/** The disks under `slaves/`, partitions replaced by the disk that holds them. */
async function secondaryDisks(paths: BlockPaths, sysDev: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(join(sysDev, 'slaves'))).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const entry = join(paths.sysfs, 'class', 'block', name);
    if (await exists(join(entry, 'partition'))) {
      try {
        out.push(basename(dirname(await realpath(entry))));
        continue;
      } catch {
        // a partition that went away: keep its own name
      }
    }
    out.push(name);
  }
  return out;
}

/** Every link below `devDisk` (by-id, by-path, by-uuid ...) by the device name it points at. */
export async function diskSymlinks(devDisk: string): Promise<Map<string, string[]>> {
  const byDevice = new Map<string, string[]>();
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink() && !e.name.startsWith('.#')) {
        const target = await link(p);
        if (target === undefined) continue;
        const device = posix.basename(target);
        const list = byDevice.get(device) ?? [];
        list.push(rebase(p, devDisk, '/dev/disk'));
        byDevice.set(device, list);
      }
    }
  };
  await walk(devDisk);
  for (const list of byDevice.values()) list.sort();
  return byDevice;
}

/**
 * One whole disk from its sysfs directory (`<sysfs>/block/<id>`), or undefined for what Talos does not report: ram
 * disks, devices without media or backing (size 0, e.g. a loop device with no file) and LVM's private mappings.
 */
export async function readDisk(paths: BlockPaths, id: string, symlinks: Map<string, string[]>, serialHelper?: SerialHelper, signal?: AbortSignal): Promise<DiskSpec | undefined> {
  const sysDev = join(paths.sysfs, 'block', id);
  const dev = await text(join(sysDev, 'dev'));
  const major = Number(dev.split(':')[0]);
  if (dev === '' || major === RAM_MAJOR) return undefined;
  const cdrom = id.startsWith('sr') || (await text(join(sysDev, 'device', 'type'))) === SCSI_TYPE_ROM;
  const size = Number(await text(join(sysDev, 'size'))) * SECTOR || 0;
  // a CD drive without a disc is still a drive (Talos lists it with size 0)
  if (size === 0 && !cdrom) return undefined;
  if (await isPrivateDeviceMapper(sysDev)) return undefined;

  const queue = (f: string) => text(join(sysDev, 'queue', f)).then(Number);
  let ioSize = SECTOR;
  for (const candidate of [await queue('optimal_io_size'), await queue('minimum_io_size')]) {
    if (powerOfTwo(candidate)) {
      ioSize = candidate;
      break;
    }
  }
  const sectorSize = (await queue('logical_block_size')) || SECTOR;

  // /sys/block/<id> points into /sys/devices: the bus path is what lies between `devices` and `block/<id>`
  const full = (await link(join(paths.sysfs, 'dev', 'block', dev))) ?? (await link(sysDev)) ?? '';
  const devicesAt = full.indexOf('devices/');
  const underDevices = devicesAt >= 0 ? full.slice(devicesAt + 'devices'.length) : '';
  const busPath = underDevices ? posix.dirname(posix.dirname(underDevices)) : '';
  const deviceName = full ? posix.basename(full) : id;
  let subSystem = '';
  try {
    subSystem = rebase(await realpath(join(sysDev, 'subsystem')), paths.sysfs, '/sys');
  } catch {
    // no subsystem link
  }
  const transport = await transportOf(paths, sysDev, deviceName);
  let serial = await text(join(sysDev, 'device', 'serial'));
  if (serial === '' && serialHelper) serial = await serialHelper(id, transport, signal);

  return {
    devPath: `/dev/${id}`,
    size,
    prettySize: prettyBytes(size),
    ioSize,
    sectorSize,
    readonly: (await text(join(sysDev, 'ro'))) === '1',
    cdrom,
    model: await text(join(sysDev, 'device', 'model')),
    serial,
    modalias: await text(join(sysDev, 'device', 'modalias')),
    wwid: (await text(join(sysDev, 'wwid'))) || (await text(join(sysDev, 'device', 'wwid'))),
    uuid: await text(join(sysDev, 'uuid')),
    busPath,
    subSystem,
    transport,
    rotational: (await queue('rotational')) === 1,
    secondaryDisks: await secondaryDisks(paths, sysDev),
    symlinks: symlinks.get(id) ?? [],
  };
}

/** Every whole disk the kernel lists under `<sysfs>/block`, by its name. */
export async function readDisks(paths: BlockPaths, serialHelper?: SerialHelper, signal?: AbortSignal): Promise<Map<string, DiskSpec>> {
  const out = new Map<string, DiskSpec>();
  let ids: string[];
  try {
    ids = (await readdir(join(paths.sysfs, 'block'))).sort();
  } catch (e) {
    throw new Error(`listing ${join(paths.sysfs, 'block')}: ${(e as Error).message}`, { cause: e });
  }
  const symlinks = await diskSymlinks(paths.devDisk);
  for (const id of ids) {
    const disk = await readDisk(paths, id, symlinks, serialHelper, signal);
    if (disk) out.set(id, disk);
  }
  return out;
}

/** `KEY=value` lines (udev helpers' `--export` output) as a map. */
export function parseEnvLines(output: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    env.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return env;
}

/** udev's helpers on a real machine: ata_id for ATA disks, scsi_id for SCSI ones; '' when they say nothing. */
export function udevSerialHelper(helpers = '/usr/lib/udev'): SerialHelper {
  return (id, transport, signal) => {
    const t = transport.toLowerCase();
    const args =
      t === 'ata' ? [join(helpers, 'ata_id'), '--export', `/dev/${id}`] : t === 'scsi' ? [join(helpers, 'scsi_id'), '--export', '--allowlisted', '--device', `/dev/${id}`] : undefined;
    if (!args) return Promise.resolve('');
    return new Promise((resolve) => {
      execFile(args[0]!, args.slice(1), { timeout: 10_000, signal }, (err, stdout) => {
        if (err) return resolve('');
        const env = parseEnvLines(stdout);
        resolve(env.get('ID_SERIAL') || env.get('ID_SERIAL_SHORT') || '');
      });
    });
  };
}
