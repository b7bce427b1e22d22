import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mountStateVolume, parseMountInfo, VolumeError } from './state-volume.js';

const MOUNTINFO = [
  '22 1 7:0 / / ro,relatime - squashfs /dev/loop0 ro',
  '23 22 0:21 / /system rw,nosuid,nodev shared:2 - tmpfs tmpfs rw,mode=755',
  '30 23 0:40 / /system/with\\040space rw - tmpfs tmpfs rw',
  'garbage',
  '',
].join('\n');

describe('parseMountInfo', () => {
  it('reads the mount point, type and source, past optional fields and octal escapes', () => {
    assert.deepEqual(parseMountInfo(MOUNTINFO), [
      { mountPoint: '/', fsType: 'squashfs', source: '/dev/loop0' },
      { mountPoint: '/system', fsType: 'tmpfs', source: 'tmpfs' },
      { mountPoint: '/system/with space', fsType: 'tmpfs', source: 'tmpfs' },
    ]);
  });
});

describe('mountStateVolume', () => {
  let dir: string;
  let sys: string;
  let dev: string;
  const xfs = (label: string) => {
    const b = Buffer.alloc(4096);
    b.write('XFSB', 0, 'latin1');
    b.write(label, 108, 'utf8');
    return b;
  };
  const device = (name: string, image: Buffer) => {
    mkdirSync(join(sys, name), { recursive: true });
    writeFileSync(join(sys, name, 'size'), '2048\n');
    writeFileSync(join(dev, name), image);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-state-volume-'));
    sys = join(dir, 'sys');
    dev = join(dir, 'dev');
    mkdirSync(dev);
    device('vda', xfs('EPHEMERAL'));
    device('vdb', xfs('STATE'));
    device('vdc', xfs('STATE'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mounts the first device labelled STATE at the target, naming the others', () => {
    const calls: string[][] = [];
    const target = join(dir, 'system', 'state');
    const r = mountStateVolume({ target, sysBlock: sys, devDir: dev, mountInfo: () => MOUNTINFO, mount: (...a) => void calls.push(a) });
    assert.equal(r.kind, 'mounted');
    assert.deepEqual(calls, [[join(dev, 'vdb'), target, 'xfs']]);
    assert.ok(existsSync(target), 'the mount point is made');
    if (r.kind === 'mounted') assert.deepEqual(r.others.map((d) => d.name), ['vdc']);
  });

  it('leaves a target that is already a mount point alone (machined started again)', () => {
    const target = '/system/with space';
    const r = mountStateVolume({ target, sysBlock: sys, devDir: dev, mountInfo: () => MOUNTINFO, mount: () => assert.fail('mounted twice') });
    assert.deepEqual(r, { kind: 'already-mounted', source: 'tmpfs', fsType: 'tmpfs', mountPoint: target });
  });

  it('is absent without a STATE filesystem', () => {
    const r = mountStateVolume({ target: join(dir, 'x'), label: 'NOPE', sysBlock: sys, devDir: dev, mountInfo: () => MOUNTINFO, mount: () => assert.fail('nothing to mount') });
    assert.deepEqual(r, { kind: 'absent', mountPoint: join(dir, 'x') });
  });

  it('reports a failed mount with its device, type and target', () => {
    const target = join(dir, 'fail');
    assert.throws(
      () =>
        mountStateVolume({ target, sysBlock: sys, devDir: dev, mountInfo: () => MOUNTINFO, mount: () => {
          throw Object.assign(new Error('mount(2): No such device'), { code: 'ENODEV' });
        } }),
      (e: unknown) => e instanceof VolumeError && e.code === 'BRONZE_VOLUME_MOUNT' && e.message === `mounting STATE (xfs on ${join(dev, 'vdb')}) at ${target}: mount(2): No such device`,
    );
  });

  it('reports devices that cannot be listed, and refuses a relative target', () => {
    assert.throws(() => mountStateVolume({ target: join(dir, 'y'), sysBlock: join(dir, 'none'), devDir: dev, mountInfo: () => '' }), { code: 'BRONZE_VOLUME_SCAN', message: /listing block devices to find STATE: ENOENT/ });
    assert.throws(() => mountStateVolume({ target: 'system/state', mountInfo: () => '' }), { code: 'BRONZE_VOLUME_INVALID_ARGUMENT', message: 'the STATE mount point must be an absolute path, not "system/state"' });
  });
});
