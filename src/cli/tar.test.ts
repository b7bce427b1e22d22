import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeTarHeader, padding, TAR_END, tarGz } from '../sys/files/tar.js';
import { extractFileFromTarGz, extractTarGz } from './tar.js';

async function* chunksOf(b: Buffer, size: number) {
  for (let off = 0; off < b.length; off += size) yield b.subarray(off, off + size);
}

describe('extractTarGz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bronze-cli-tar-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('unpacks what the node archives: nested files, long names (PAX), symbolic links, arriving in odd chunks', async () => {
    const src = join(dir, 'src');
    const long = `${'d'.repeat(120)}/${'f'.repeat(110)}.txt`;
    mkdirSync(join(src, 'sub'), { recursive: true });
    mkdirSync(join(src, 'd'.repeat(120)));
    writeFileSync(join(src, 'sub', 'a.txt'), 'alpha\n');
    writeFileSync(join(src, long), Buffer.alloc(70_000, 7));
    symlinkSync('sub/a.txt', join(src, 'link'));
    const archive = await tarGz(src);
    const chunks: Buffer[] = [];
    for await (const c of archive.stream) chunks.push(c as Buffer);
    const dest = join(dir, 'dest');
    mkdirSync(dest);
    const n = await extractTarGz(chunksOf(Buffer.concat(chunks), 333), dest);
    assert.equal(n, 5);
    assert.equal(readFileSync(join(dest, 'sub', 'a.txt'), 'utf8'), 'alpha\n');
    assert.deepEqual(readFileSync(join(dest, long)), Buffer.alloc(70_000, 7));
    assert.equal(readlinkSync(join(dest, 'link')), 'sub/a.txt');
    assert.equal(extractFileFromTarGz('sub/a.txt', Buffer.concat(chunks)).toString(), 'alpha\n');
  });

  it('refuses an entry that climbs out of the destination', async () => {
    const body = Buffer.from('x');
    const tar = Buffer.concat([encodeTarHeader({ name: '../escaped', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, type: 'file' }), body, padding(1), TAR_END]);
    await assert.rejects(extractTarGz(chunksOf(gzipSync(tar), 512), join(dir, 'dest2')), /archive entry "\.\.\/escaped" points outside the destination/);
  });

  it('fails on an archive cut inside an entry', async () => {
    const tar = Buffer.concat([encodeTarHeader({ name: 'cut', mode: 0o644, uid: 0, gid: 0, size: 2000, mtime: 0, type: 'file' }), Buffer.alloc(600)]);
    await assert.rejects(extractTarGz(chunksOf(gzipSync(tar), 100), join(dir, 'dest3')), /the archive ends inside an entry/);
  });
});
