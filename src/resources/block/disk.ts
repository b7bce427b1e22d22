import { DiskSpec as PB } from '../../api/gen/resource/definitions/block/block.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const DiskType = 'Disks.block.talos.dev';

/**
 * A whole disk of the machine (ID = its kernel name, `sda`, `vda`, `nvme0n1`), as the kernel describes it in sysfs.
 * Read-only facts: none of it is desired state.
 */
export interface DiskSpec {
  /** `/dev/<id>` */
  devPath: string;
  /** bytes */
  size: number;
  /** the size in SI units as go-humanize prints it (`10 GB`) */
  prettySize: string;
  /** the optimal (or minimum) I/O size, bytes */
  ioSize: number;
  /** the logical sector size, bytes */
  sectorSize: number;
  readonly: boolean;
  cdrom: boolean;
  model: string;
  serial: string;
  modalias: string;
  wwid: string;
  uuid: string;
  /** the device's path under /sys/devices without the block part (`/pci0000:00/0000:00:05.0/virtio2`) */
  busPath: string;
  /** where the device's `subsystem` link points (`/sys/class/block`) */
  subSystem: string;
  /** `nvme`, `virtio`, `mmc`, `sata`, `ata`, `usb`, `sas`, ... ('' when unknown) */
  transport: string;
  rotational: boolean;
  /** disks this one is built on (device-mapper, md), partitions mapped to their disks */
  secondaryDisks: string[];
  /** the /dev/disk/by-* links that point at the disk, sorted */
  symlinks: string[];
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Bytes in SI units, rounded as go-humanize's `Bytes` (one decimal below 10 of a unit). */
export function prettyBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  let exp = 0;
  while (exp < UNITS.length - 1 && bytes >= 1000 ** (exp + 1)) exp++;
  const scaled = Math.floor((bytes / 1000 ** exp) * 10 + 0.5) / 10;
  return scaled < 10 ? `${scaled.toFixed(1)} ${UNITS[exp]}` : `${scaled.toFixed(0)} ${UNITS[exp]}`;
}

/** The YAML form Talos writes: snake_case keys in its field order, the optional ones left out when empty. */
function toYAML(s: DiskSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    dev_path: s.devPath,
    size: s.size,
    pretty_size: s.prettySize,
    io_size: s.ioSize,
    sector_size: s.sectorSize,
    readonly: s.readonly,
    cdrom: s.cdrom,
  };
  const optional: [string, string | boolean | string[]][] = [
    ['model', s.model],
    ['serial', s.serial],
    ['modalias', s.modalias],
    ['wwid', s.wwid],
    ['uuid', s.uuid],
    ['bus_path', s.busPath],
    ['sub_system', s.subSystem],
    ['transport', s.transport],
    ['rotational', s.rotational],
    ['secondary_disks', s.secondaryDisks],
    ['symlinks', s.symlinks],
  ];
  for (const [k, v] of optional) {
    if (Array.isArray(v) ? v.length > 0 : v) out[k] = v;
  }
  return out;
}

export const diskDefinition = define<DiskSpec, PB>(
  {
    type: DiskType,
    defaultNamespace: RuntimeNamespace,
    printColumns: [
      { name: 'Size', jsonPath: '{.pretty_size}' },
      { name: 'Read Only', jsonPath: '{.readonly}' },
      { name: 'Transport', jsonPath: '{.transport}' },
      { name: 'Rotational', jsonPath: '{.rotational}' },
      { name: 'WWID', jsonPath: '{.wwid}' },
      { name: 'Model', jsonPath: '{.model}' },
      { name: 'Serial', jsonPath: '{.serial}' },
    ],
    toYAML: (s) => toYAML(s),
  },
  PB,
  (s) => ({
    devPath: s.devPath,
    size: String(s.size),
    prettySize: s.prettySize,
    ioSize: String(s.ioSize),
    sectorSize: String(s.sectorSize),
    readonly: s.readonly,
    cdrom: s.cdrom,
    model: s.model,
    serial: s.serial,
    modalias: s.modalias,
    wwid: s.wwid,
    uuid: s.uuid,
    busPath: s.busPath,
    subSystem: s.subSystem,
    transport: s.transport,
    rotational: s.rotational,
    secondaryDisks: s.secondaryDisks,
    symlinks: s.symlinks,
  }),
);
