import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type DiskSpec, DiskType } from '../../resources/block/disk.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { type BlockPaths, HOST_BLOCK_PATHS, readDisks, type SerialHelper } from './sysfs-disks.js';

/** How often the disks are read again when nothing else says they changed. */
export const DEFAULT_RESCAN_INTERVAL_MS = 30_000;

export interface DisksOptions {
  /** where sysfs and the /dev/disk links are read (default the machine's: `/sys`, `/dev/disk`) */
  paths?: BlockPaths;
  /** between two readings of the disks, ms (default 30 s); hot-plugged disks appear within it */
  rescanIntervalMs?: number;
  /** finds serial numbers sysfs does not have (default none; a real machine passes udev's ata_id / scsi_id) */
  serialHelper?: SerialHelper;
}

/**
 * `block.DisksController`: Disks (namespace `runtime`, ID = kernel name) for the machine's whole disks, read from
 * sysfs as Talos's DisksController reads its block devices: ram disks, devices of size 0 (detached loop devices,
 * empty slots) and LVM's private mappings are left out; CD drives are kept even without a disc. The disks are read at
 * start and every `rescanIntervalMs`; disks that went away are removed.
 */
export class DisksController implements Controller {
  readonly name = 'block.DisksController';

  constructor(private readonly opts: DisksOptions = {}) {}

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: DiskType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    const paths = this.opts.paths ?? HOST_BLOCK_PATHS;
    const timer = setInterval(() => r.queueReconcile(), this.opts.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS);
    let seen = '';
    try {
      for await (const _ of r.events()) {
        const disks = await readDisks(paths, this.opts.serialHelper, signal);
        const ids = [...disks.keys()].join(',');
        if (ids !== seen) log.info({ disks: [...disks.keys()] }, 'disks found');
        seen = ids;
        r.startTrackingOutputs();
        for (const [id, spec] of disks) {
          await r.modify<DiskSpec>({ namespace: RuntimeNamespace, type: DiskType, id }, () => spec, (o) => {
            o.spec = spec;
          });
        }
        await r.cleanupOutputs({ namespace: RuntimeNamespace, type: DiskType });
      }
    } finally {
      clearInterval(timer);
    }
  }
}
