import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DiskSpec, diskDefinition, DiskType, prettyBytes } from '../../resources/block/disk.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { DiskSpec as PB } from '../../api/gen/resource/definitions/block/block.js';
import { ControllerTest } from '../ctest.js';
import { DisksController } from './disks.js';
import { FakeSysfs } from './fake-sysfs.js';
import { parseEnvLines, readDisks } from './sysfs-disks.js';

const kind = { namespace: RuntimeNamespace, type: DiskType };
const ptr = (id: string) => ({ ...kind, id });

/** A machine with a virtio disk, a SATA disk with a partition, a CD drive without a disc, NVMe, loop, ram and dm devices. */
function machine(): FakeSysfs {
  const fs = new FakeSysfs();
  fs.add({
    name: 'vda',
    dev: '253:0',
    parent: 'pci0000:00/0000:00:05.0/virtio2',
    sectors: 20_971_520,
    files: { ro: '0', 'queue/optimal_io_size': '0', 'queue/minimum_io_size': '512', 'queue/logical_block_size': '512', 'queue/rotational': '1', 'device/serial': 'VDSERIAL1' },
    device: 'pci0000:00/0000:00:05.0/virtio2',
  });
  fs.add({
    name: 'sda',
    dev: '8:0',
    parent: 'pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0',
    sectors: 2_097_152,
    files: {
      ro: '0',
      'queue/optimal_io_size': '4096',
      'queue/minimum_io_size': '4096',
      'queue/logical_block_size': '4096',
      'queue/rotational': '0',
      'device/model': 'QEMU HARDDISK',
      'device/type': '0',
      'device/modalias': 'scsi:t-0x00',
      'device/wwid': 't10.ATA     QEMU HARDDISK                           QM00001',
    },
    device: 'pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0',
    partitions: { sda1: 1 },
  });
  fs.file('class/scsi_host/host0/proc_name', 'ahci');
  fs.add({ name: 'sr0', dev: '11:0', parent: 'pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0', sectors: 0, files: { ro: '1', 'device/type': '5', 'device/model': 'QEMU DVD-ROM' }, device: 'pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0' });
  fs.file('class/scsi_host/host1/proc_name', 'ata_piix');
  fs.add({
    name: 'nvme0n1',
    dev: '259:0',
    parent: 'pci0000:00/0000:00:06.0/nvme/nvme0',
    sectors: 4_194_304,
    files: { uuid: '6a1d8c34-0e0a-4c6b-9b5a-4f5f0f0e9c11', wwid: 'eui.0123456789abcdef', 'queue/rotational': '0' },
  });
  fs.add({ name: 'loop0', dev: '7:0', parent: 'virtual', sectors: 0 });
  fs.add({ name: 'loop1', dev: '7:1', parent: 'virtual', sectors: 128, files: { ro: '1' } });
  fs.add({ name: 'ram0', dev: '1:0', parent: 'virtual', sectors: 8192 });
  fs.add({ name: 'dm-0', dev: '254:0', parent: 'virtual', sectors: 1024, files: { 'dm/uuid': 'LVM-abcdef-tpool' } });
  fs.add({ name: 'dm-1', dev: '254:1', parent: 'virtual', sectors: 2048, files: { 'dm/uuid': 'CRYPT-LUKS2-0123-sda1' }, slaves: ['sda1'] });
  fs.symlink('by-id/virtio-VDSERIAL1', 'vda');
  fs.symlink('by-path/pci-0000:00:05.0', 'vda');
  fs.symlink('by-id/.#udev-tmp', 'vda');
  fs.symlink('by-id/ata-QEMU_HARDDISK_QM00001', 'sda');
  fs.symlink('by-id/ata-QEMU_HARDDISK_QM00001-part1', 'sda1');
  return fs;
}

describe('block disks from sysfs', () => {
  let fs: FakeSysfs;
  before(() => (fs = machine()));
  after(() => fs.cleanup());

  it('reads every whole disk as Talos describes it, leaving out ram disks, empty devices and LVM private mappings', async () => {
    const disks = await readDisks(fs.paths);
    assert.deepEqual([...disks.keys()], ['dm-1', 'loop1', 'nvme0n1', 'sda', 'sr0', 'vda']);
    const vda: DiskSpec = {
      devPath: '/dev/vda',
      size: 10_737_418_240,
      prettySize: '11 GB',
      ioSize: 512,
      sectorSize: 512,
      readonly: false,
      cdrom: false,
      model: '',
      serial: 'VDSERIAL1',
      modalias: '',
      wwid: '',
      uuid: '',
      busPath: '/pci0000:00/0000:00:05.0/virtio2',
      subSystem: '/sys/class/block',
      transport: 'virtio',
      rotational: true,
      secondaryDisks: [],
      symlinks: ['/dev/disk/by-id/virtio-VDSERIAL1', '/dev/disk/by-path/pci-0000:00:05.0'],
    };
    assert.deepEqual(disks.get('vda'), vda);
    const sda = disks.get('sda')!;
    assert.deepEqual(
      [sda.size, sda.prettySize, sda.ioSize, sda.sectorSize, sda.transport, sda.rotational, sda.model, sda.modalias, sda.busPath, sda.symlinks],
      [1_073_741_824, '1.1 GB', 4096, 4096, 'sata', false, 'QEMU HARDDISK', 'scsi:t-0x00', '/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0', ['/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001']],
    );
    assert.equal(sda.wwid, 't10.ATA     QEMU HARDDISK                           QM00001');
    const sr0 = disks.get('sr0')!;
    assert.deepEqual([sr0.cdrom, sr0.size, sr0.prettySize, sr0.readonly, sr0.transport], [true, 0, '0 B', true, 'ata']);
    const nvme = disks.get('nvme0n1')!;
    assert.deepEqual([nvme.transport, nvme.uuid, nvme.wwid, nvme.prettySize], ['nvme', '6a1d8c34-0e0a-4c6b-9b5a-4f5f0f0e9c11', 'eui.0123456789abcdef', '2.1 GB']);
    const loop = disks.get('loop1')!;
    assert.deepEqual([loop.busPath, loop.size, loop.prettySize, loop.readonly, loop.transport], ['/virtual', 65_536, '66 kB', true, '']);
    // a mapping over a partition names the disk that holds it
    assert.deepEqual(disks.get('dm-1')!.secondaryDisks, ['sda']);
  });

  it('asks the serial helper for disks whose sysfs has no serial', async () => {
    const asked: string[] = [];
    const disks = await readDisks(fs.paths, async (id, transport) => {
      asked.push(`${id}/${transport}`);
      return id === 'sda' ? 'QM00001' : '';
    });
    assert.equal(disks.get('sda')!.serial, 'QM00001');
    assert.equal(disks.get('vda')!.serial, 'VDSERIAL1');
    assert.ok(!asked.includes('vda/virtio'));
    assert.ok(asked.includes('sda/sata'));
  });

  it('parses udev helper output', () => {
    const env = parseEnvLines('# comment\nID_ATA=1\nID_SERIAL=QEMU_HARDDISK_QM00001\nID_SERIAL_SHORT = QM00001\nbogus\n');
    assert.equal(env.get('ID_SERIAL'), 'QEMU_HARDDISK_QM00001');
    assert.equal(env.get('ID_SERIAL_SHORT'), 'QM00001');
    assert.equal(env.size, 3);
  });

  it('prints sizes as go-humanize does', () => {
    assert.deepEqual([0, 9, 10, 999, 1000, 1049, 1050, 9_950, 99_999, 999_999, 10_737_418_240, 2 ** 53].map(prettyBytes), [
      '0 B', '9 B', '10 B', '999 B', '1.0 kB', '1.0 kB', '1.1 kB', '10 kB', '100 kB', '1000 kB', '11 GB', '9.0 PB',
    ]);
  });

  it('encodes the spec with Talos field numbers and YAML keys', () => {
    const spec: DiskSpec = {
      devPath: '/dev/sda', size: 1000, prettySize: '1.0 kB', ioSize: 512, sectorSize: 512, readonly: false, cdrom: false, model: 'M', serial: '', modalias: '', wwid: 'w',
      uuid: '', busPath: '/b', subSystem: '/sys/class/block', transport: 'sata', rotational: false, secondaryDisks: [], symlinks: ['/dev/disk/by-id/x'],
    };
    const pb = PB.decode(diskDefinition.toProto!(spec));
    assert.deepEqual([pb.devPath, pb.size, pb.prettySize, pb.ioSize, pb.model, pb.wwid, pb.transport, pb.symlinks], ['/dev/sda', '1000', '1.0 kB', '512', 'M', 'w', 'sata', ['/dev/disk/by-id/x']]);
    assert.deepEqual(diskDefinition.toYAML!(spec), {
      dev_path: '/dev/sda', size: 1000, pretty_size: '1.0 kB', io_size: 512, sector_size: 512, readonly: false, cdrom: false, model: 'M', wwid: 'w',
      bus_path: '/b', sub_system: '/sys/class/block', transport: 'sata', symlinks: ['/dev/disk/by-id/x'],
    });
  });
});

describe('block.DisksController', () => {
  it('writes a Disk per disk, and removes the disk that went away at the next reading', async () => {
    const fs = machine();
    const t = ControllerTest.start([new DisksController({ paths: fs.paths, rescanIntervalMs: 50 })]);
    try {
      await t.expectIDs(kind, ['dm-1', 'loop1', 'nvme0n1', 'sda', 'sr0', 'vda']);
      const vda = await t.expect<DiskSpec>(ptr('vda'));
      assert.equal(vda.transport, 'virtio');
      assert.equal(vda.size, 10_737_418_240);
      fs.remove('vda');
      await t.expectIDs(kind, ['dm-1', 'loop1', 'nvme0n1', 'sda', 'sr0']);
      fs.add({ name: 'vdb', dev: '253:16', parent: 'pci0000:00/0000:00:07.0/virtio3', sectors: 2048, files: { 'queue/rotational': '1' } });
      assert.equal((await t.expect<DiskSpec>(ptr('vdb'))).busPath, '/pci0000:00/0000:00:07.0/virtio3');
    } finally {
      await t.stop();
      fs.cleanup();
    }
  });

  it('fails when sysfs has no block directory (the runtime restarts it)', async () => {
    await assert.rejects(readDisks({ sysfs: '/nonexistent/sys', devDisk: '/nonexistent/dev/disk' }), /^Error: listing \/nonexistent\/sys\/block: ENOENT/);
  });
});
