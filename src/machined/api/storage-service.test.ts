import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type sendUnaryData, type ServerUnaryCall, status } from '@grpc/grpc-js';
import pino from 'pino';
import { Disk_DiskType } from '../../api/gen/storage/storage.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { type DiskSpec, DiskType } from '../../resources/block/disk.js';
import { diskTypeOf, storageService } from './storage-service.js';

const base: DiskSpec = {
  devPath: '', size: 0, prettySize: '', ioSize: 512, sectorSize: 512, readonly: false, cdrom: false, model: '', serial: '', modalias: '', wwid: '', uuid: '',
  busPath: '', subSystem: '/sys/class/block', transport: '', rotational: false, secondaryDisks: [], symlinks: [],
};

function call<Req, Res>(handler: (c: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => {
    const c = { request: {}, getPath: () => '/storage.StorageService/x' } as unknown as ServerUnaryCall<Req, Res>;
    handler(c, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

describe('storage.StorageService', () => {
  it('Disks answers the Disks resources as the legacy messages, the system disk marked', async () => {
    const state = new State(new InMemoryState());
    const disk = (id: string, s: Partial<DiskSpec>) => state.create(newResource({ namespace: 'runtime', type: DiskType, id }, { ...base, devPath: `/dev/${id}`, ...s }));
    await disk('vda', { size: 10_737_418_240, transport: 'virtio', rotational: true, serial: 'S1', busPath: '/pci0000:00/0000:00:05.0/virtio2', wwid: 'w', uuid: 'u', modalias: 'virtio:d00000002v00001AF4' });
    await disk('sr0', { cdrom: true, readonly: true, model: 'QEMU DVD-ROM', transport: 'ata' });
    const svc = storageService({ logger: pino({ level: 'silent' }), state, systemDisk: async () => 'vda' });
    const r = await call(svc.disks);
    assert.equal(r.messages.length, 1);
    assert.deepEqual(r.messages[0]!.disks, [
      { deviceName: '/dev/sr0', name: '', model: 'QEMU DVD-ROM', size: '0', serial: '', modalias: '', wwid: '', uuid: '', type: Disk_DiskType.CD, busPath: '', systemDisk: false, subsystem: '/sys/class/block', readonly: true },
      {
        deviceName: '/dev/vda', name: '', model: '', size: '10737418240', serial: 'S1', modalias: 'virtio:d00000002v00001AF4', wwid: 'w', uuid: 'u', type: Disk_DiskType.HDD,
        busPath: '/pci0000:00/0000:00:05.0/virtio2', systemDisk: true, subsystem: '/sys/class/block', readonly: false,
      },
    ].sort((a, b) => a.deviceName.localeCompare(b.deviceName)));
    const none = await call(storageService({ logger: pino({ level: 'silent' }), state: new State(new InMemoryState()) }).disks);
    assert.deepEqual(none, { messages: [{ metadata: undefined, disks: [] }] });
    await assert.rejects(call(svc.blockDeviceWipe), { code: status.UNIMPLEMENTED });
  });

  it('types disks as Talos does', () => {
    const t = (s: Partial<DiskSpec>) => diskTypeOf({ ...base, ...s });
    assert.deepEqual(
      [t({ cdrom: true, transport: 'nvme' }), t({ transport: 'nvme', rotational: true }), t({ transport: 'mmc' }), t({ rotational: true }), t({ transport: 'sata' }), t({})],
      [Disk_DiskType.CD, Disk_DiskType.NVME, Disk_DiskType.SD, Disk_DiskType.HDD, Disk_DiskType.SSD, Disk_DiskType.UNKNOWN],
    );
  });
});
