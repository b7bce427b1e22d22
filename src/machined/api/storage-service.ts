import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type Disk, Disk_DiskType, type StorageServiceServer } from '../../api/gen/storage/storage.js';
import type { ReadonlyResource } from '../../cosi/resource.js';
import type { State } from '../../cosi/state.js';
import { type DiskSpec, DiskType } from '../../resources/block/disk.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { GrpcStatusError, unaryHandler } from './grpc-error.js';

export interface StorageServiceDeps {
  logger: Logger;
  state: State;
  /** the ID of the disk the node boots from, when it knows it (Talos's SystemDisk); marks `system_disk` */
  systemDisk?(): Promise<string | undefined>;
}

/** A disk's type as Talos's Disks derives it: CD, then NVMe, SD (MMC), HDD (rotational), SSD (any other transport). */
export function diskTypeOf(d: DiskSpec): Disk_DiskType {
  if (d.cdrom) return Disk_DiskType.CD;
  if (d.transport === 'nvme') return Disk_DiskType.NVME;
  if (d.transport === 'mmc') return Disk_DiskType.SD;
  if (d.rotational) return Disk_DiskType.HDD;
  if (d.transport !== '') return Disk_DiskType.SSD;
  return Disk_DiskType.UNKNOWN;
}

/** A Disks resource as the legacy `storage.Disk` message. */
export function diskMessage(r: ReadonlyResource, systemDisk: string | undefined): Disk {
  const d = r.spec as DiskSpec;
  return {
    deviceName: `/dev/${r.metadata.id}`,
    name: '',
    model: d.model,
    size: String(d.size),
    serial: d.serial,
    modalias: d.modalias,
    wwid: d.wwid,
    uuid: d.uuid,
    type: diskTypeOf(d),
    busPath: d.busPath,
    systemDisk: systemDisk !== undefined && r.metadata.id === systemDisk,
    subsystem: d.subSystem,
    readonly: d.readonly,
  };
}

const toStatus = (e: unknown) =>
  e instanceof GrpcStatusError ? { code: e.grpcCode, details: e.message } : { code: status.INTERNAL, details: (e as Error)?.message ?? String(e) };

/**
 * machined's `storage.StorageService`. `Disks` is kept, as in Talos, for older clients: it answers the Disks
 * resources (`get disks` is the current way). Wiping block devices is not available yet.
 */
export function storageService(deps: StorageServiceDeps): StorageServiceServer {
  return {
    disks: unaryHandler(deps.logger, toStatus, async () => {
      const system = await deps.systemDisk?.();
      const disks = await deps.state.list({ namespace: RuntimeNamespace, type: DiskType });
      return { messages: [{ metadata: undefined, disks: disks.map((r) => diskMessage(r, system)) }] };
    }),
    blockDeviceWipe: unaryHandler(deps.logger, toStatus, async () => {
      throw new GrpcStatusError(status.UNIMPLEMENTED, 'BlockDeviceWipe is not implemented: wiping block devices is not available yet');
    }),
  };
}
