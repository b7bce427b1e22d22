import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROBE_BYTES, probeFilesystem, scanBlockDevices } from './block-probe.js';

const UUID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

/** The start of an XFS filesystem: its superblock's magic, UUID and label. */
function xfsImage(label: string): Buffer {
  const b = Buffer.alloc(PROBE_BYTES);
  b.write('XFSB', 0, 'latin1');
  b.writeUInt32BE(4096, 4);
  UUID.copy(b, 32);
  b.write(label, 108, 12, 'utf8');
  return b;
}

/** The start of an ext2/3/4 filesystem: the superblock 1024 bytes in with magic, features, UUID and volume name. */
function extImage(label: string, features: { compat?: number; incompat?: number; roCompat?: number } = {}): Buffer {
  const b = Buffer.alloc(PROBE_BYTES);
  const sb = 1024;
  b.writeUInt16LE(0xef53, sb + 56);
  b.writeUInt32LE(features.compat ?? 0, sb + 92);
  b.writeUInt32LE(features.incompat ?? 0, sb + 96);
  b.writeUInt32LE(features.roCompat ?? 0, sb + 100);
  UUID.copy(b, sb + 104);
  b.write(label, sb + 120, 16, 'utf8');
  return b;
}

/** A FAT boot sector; FAT32 keeps its label and type further in than FAT12/16. */
function fatImage(label: string, kind: 'FAT32' | 'FAT16'): Buffer {
  const b = Buffer.alloc(PROBE_BYTES);
  const at = kind === 'FAT32' ? { label: 71, serial: 67, type: 82 } : { label: 43, serial: 39, type: 54 };
  b.writeUInt32LE(0x1234abcd, at.serial);
  b.write(label.padEnd(11, ' '), at.label, 11, 'latin1');
  b.write(`${kind}   `, at.type, 8, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

describe('probeFilesystem', () => {
  const cases: { name: string; image: Buffer; want: ReturnType<typeof probeFilesystem> }[] = [
    { name: 'xfs', image: xfsImage('STATE'), want: { type: 'xfs', label: 'STATE', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'xfs with a 12-byte label (no NUL)', image: xfsImage('ABCDEFGHIJKL'), want: { type: 'xfs', label: 'ABCDEFGHIJKL', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'xfs without a label', image: xfsImage(''), want: { type: 'xfs', label: '', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'ext4 (extents)', image: extImage('STATE', { incompat: 0x40 }), want: { type: 'ext4', label: 'STATE', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'ext4 (huge files only)', image: extImage('EPHEMERAL', { roCompat: 0x8 }), want: { type: 'ext4', label: 'EPHEMERAL', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'ext3 (a journal)', image: extImage('old', { compat: 0x4 }), want: { type: 'ext3', label: 'old', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'ext2', image: extImage('older'), want: { type: 'ext2', label: 'older', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'ext4 with a 16-byte label', image: extImage('0123456789abcdef', { incompat: 0x40 }), want: { type: 'ext4', label: '0123456789abcdef', uuid: '00112233-4455-6677-8899-aabbccddeeff' } },
    { name: 'FAT32', image: fatImage('EFI', 'FAT32'), want: { type: 'vfat', label: 'EFI', uuid: '1234-ABCD' } },
    { name: 'FAT16', image: fatImage('CIDATA', 'FAT16'), want: { type: 'vfat', label: 'CIDATA', uuid: '1234-ABCD' } },
    { name: 'FAT without a label', image: fatImage('NO NAME', 'FAT32'), want: { type: 'vfat', label: '', uuid: '1234-ABCD' } },
    { name: 'zeros', image: Buffer.alloc(PROBE_BYTES), want: undefined },
    { name: 'a boot signature without a FAT type', image: (() => { const b = Buffer.alloc(PROBE_BYTES); b[510] = 0x55; b[511] = 0xaa; return b; })(), want: undefined },
    { name: 'a device shorter than the ext superblock', image: extImage('STATE', { incompat: 0x40 }).subarray(0, 1100), want: undefined },
    { name: 'an empty read', image: Buffer.alloc(0), want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => assert.deepEqual(probeFilesystem(tc.image), tc.want));
  }
});

describe('probeFilesystem on images made by mkfs', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'bronze-probe-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const tools: { tool: string; size: number; args: (f: string) => string[]; type: string }[] = [
    // mkfs.xfs refuses filesystems under 300 MiB; the file is sparse
    { tool: 'mkfs.xfs', size: 320 << 20, args: (f) => ['-q', '-L', 'STATE', f], type: 'xfs' },
    { tool: 'mkfs.ext4', size: 16 << 20, args: (f) => ['-q', '-F', '-L', 'STATE', f], type: 'ext4' },
  ];
  for (const t of tools) {
    const missing = spawnSync(t.tool, ['-V']).error ? `${t.tool} is not installed` : undefined;
    it(`${t.tool} -L STATE`, { skip: missing }, () => {
      const f = join(dir, `${t.type}.img`);
      writeFileSync(f, '');
      truncateSync(f, t.size);
      const r = spawnSync(t.tool, t.args(f), { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const dev = join(dir, 'dev');
      const sys = join(dir, 'sys');
      mkdirSync(join(sys, 'vdb'), { recursive: true });
      mkdirSync(dev, { recursive: true });
      writeFileSync(join(sys, 'vdb', 'size'), `${t.size / 512}\n`);
      rmSync(join(dev, 'vdb'), { force: true });
      spawnSync('cp', ['--sparse=always', f, join(dev, 'vdb')]);
      const [found] = scanBlockDevices({ sysBlock: sys, devDir: dev });
      assert.equal(found?.type, t.type);
      assert.equal(found?.label, 'STATE');
      assert.match(found?.uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const blkid = spawnSync('blkid', ['-o', 'value', '-s', 'UUID', f], { encoding: 'utf8' });
      if (blkid.status === 0) assert.equal(found?.uuid, blkid.stdout.trim(), 'the UUID blkid reads');
    });
  }
});

describe('scanBlockDevices', () => {
  let dir: string;
  let sys: string;
  let dev: string;
  const device = (name: string, sectors: number | undefined, image: Buffer | undefined) => {
    mkdirSync(join(sys, name), { recursive: true });
    if (sectors !== undefined) writeFileSync(join(sys, name, 'size'), `${sectors}\n`);
    if (image) writeFileSync(join(dev, name), image);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-scan-'));
    sys = join(dir, 'sys');
    dev = join(dir, 'dev');
    mkdirSync(dev);
    device('vda', 2048, xfsImage('STATE'));
    device('vdb', 4096, extImage('DATA', { incompat: 0x40 }));
    device('vdc', 4096, Buffer.alloc(PROBE_BYTES));
    device('loop0', 2048, xfsImage('STATE'));
    device('sr0', 2048, fatImage('STATE', 'FAT32'));
    device('vdd', 0, xfsImage('STATE'));
    device('vde', 2048, undefined);
    device('nvme0n1p5', 100, extImage('STATE', { incompat: 0x40 }).subarray(0, 1100));
    device('nvme0n1p6', 100, extImage('STATE', { incompat: 0x40 }));
    device('vdf', undefined, xfsImage('STATE'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the devices with a known filesystem by name, with node and size; skips loop, optical, empty and unreadable devices', () => {
    const skipped: string[] = [];
    const found = scanBlockDevices({ sysBlock: sys, devDir: dev, onSkip: (name) => skipped.push(name) });
    assert.deepEqual(
      found.map((d) => [d.name, d.device, d.size, d.type, d.label]),
      [
        ['nvme0n1p6', join(dev, 'nvme0n1p6'), 51200, 'ext4', 'STATE'],
        ['vda', join(dev, 'vda'), 1048576, 'xfs', 'STATE'],
        ['vdb', join(dev, 'vdb'), 2097152, 'ext4', 'DATA'],
      ],
    );
    assert.deepEqual(skipped.sort(), ['vde', 'vdf']);
  });

  it('throws when the block device directory is missing', () => {
    assert.throws(() => scanBlockDevices({ sysBlock: join(dir, 'nope'), devDir: dev }), { code: 'ENOENT' });
  });
});
