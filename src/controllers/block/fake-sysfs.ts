import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { BlockPaths } from './sysfs-disks.js';

/** One block device of a fake sysfs tree: where it hangs under /sys/devices and the attribute files it has. */
export interface FakeBlockDevice {
  name: string;
  /** `major:minor` */
  dev: string;
  /** below /sys/devices, without `block/<name>` (`pci0000:00/0000:00:05.0/virtio2`, `virtual`) */
  parent: string;
  /** size in 512-byte sectors */
  sectors: number;
  /** files relative to the device's directory (`ro`, `queue/rotational`, `device/model`, `dm/uuid` ...) */
  files?: Record<string, string>;
  /** `device` link target, relative to /sys/devices (SCSI disks: `.../host0/target0:0:0/0:0:0:0`) */
  device?: string;
  /** names under `slaves/` */
  slaves?: string[];
  /** partitions: `name` → partition number */
  partitions?: Record<string, number>;
}

/**
 * A sysfs tree and a /dev/disk directory in a temporary directory, laid out as the kernel and udev lay them out:
 * `/sys/devices/.../block/<name>` with `/sys/block/<name>`, `/sys/dev/block/<maj:min>` and `/sys/class/block/<name>`
 * links to it (tests of the disk readers).
 */
export class FakeSysfs {
  readonly root = mkdtempSync(join(tmpdir(), 'bronze-sysfs-'));
  readonly paths: BlockPaths = { sysfs: join(this.root, 'sys'), devDisk: join(this.root, 'dev', 'disk') };

  private link(target: string, at: string): void {
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(relative(dirname(at), target), at);
  }

  private write(path: string, content: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${content}\n`);
  }

  add(d: FakeBlockDevice): void {
    const sys = this.paths.sysfs;
    const dir = join(sys, 'devices', d.parent, 'block', d.name);
    // the device link first: its attribute files are written through it
    if (d.device) {
      mkdirSync(join(sys, 'devices', d.device), { recursive: true });
      // the kernel's link names the device's directory even when it is an ancestor (`../../../0:0:0:0`)
      const target = join(sys, 'devices', d.device);
      mkdirSync(dir, { recursive: true });
      symlinkSync(join(relative(dir, dirname(target)), basename(target)), join(dir, 'device'));
    }
    this.write(join(dir, 'dev'), d.dev);
    this.write(join(dir, 'size'), String(d.sectors));
    for (const [f, v] of Object.entries(d.files ?? {})) this.write(join(dir, f), v);
    mkdirSync(join(sys, 'class', 'block'), { recursive: true });
    this.link(join(sys, 'class', 'block'), join(dir, 'subsystem'));
    for (const s of d.slaves ?? []) this.link(join(sys, 'class', 'block', s), join(dir, 'slaves', s));
    this.link(dir, join(sys, 'block', d.name));
    this.link(dir, join(sys, 'dev', 'block', d.dev));
    this.link(dir, join(sys, 'class', 'block', d.name));
    for (const [p, n] of Object.entries(d.partitions ?? {})) {
      this.write(join(dir, p, 'partition'), String(n));
      this.link(join(dir, p), join(sys, 'class', 'block', p));
    }
  }

  /** Takes a device out of /sys/block, as the kernel does when it goes away. */
  remove(name: string): void {
    rmSync(join(this.paths.sysfs, 'block', name));
  }

  /** A udev link: `/dev/disk/<path>` → `../../<device>`. */
  symlink(path: string, device: string): void {
    const at = join(this.paths.devDisk, path);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(`../../${device}`, at);
  }

  /** A file below the sysfs root (SCSI host attributes, ...). */
  file(path: string, content: string): void {
    this.write(join(this.paths.sysfs, path), content);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
