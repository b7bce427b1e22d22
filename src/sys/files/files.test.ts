import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ListRequest, ListRequest_Type, type DiskUsageRequest, type FileInfo } from '../../api/gen/machine/machine.js';
import { GoFileMode, diskUsage, encodeTarHeader, formatGoFileMode, goFileMode, listFiles, tarGz, walk } from './index.js';

let dir: string;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const list = (req: Partial<ListRequest>) => collect(listFiles(ListRequest.fromPartial(req)));
const rel = (infos: FileInfo[]) => infos.map((f) => f.relativeName);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bronze-files-'));
  mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  writeFileSync(join(dir, 'a/one.txt'), 'one');
  writeFileSync(join(dir, 'a/b/two.txt'), 'two two');
  writeFileSync(join(dir, 'a/b/c/three.txt'), 'x'.repeat(3000));
  writeFileSync(join(dir, 'z.bin'), Buffer.alloc(70_000, 7));
  writeFileSync(join(dir, 'B-upper'), '');
  symlinkSync('a/one.txt', join(dir, 'link'));
  writeFileSync(join(dir, 'suid'), '#!/bin/sh\n');
  chmodSync(join(dir, 'suid'), 0o4755);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('Go file modes', () => {
  test('type and special bits', () => {
    assert.equal(goFileMode(lstatSync(dir).mode), GoFileMode.Dir + (lstatSync(dir).mode & 0o777));
    assert.equal(goFileMode(lstatSync(join(dir, 'link')).mode), GoFileMode.Symlink + 0o777);
    assert.equal(goFileMode(lstatSync(join(dir, 'suid')).mode), GoFileMode.Setuid + 0o755);
    assert.equal(goFileMode(lstatSync(join(dir, 'fifo')).mode) & GoFileMode.NamedPipe, GoFileMode.NamedPipe);
    assert.equal(goFileMode(lstatSync('/dev/null').mode), GoFileMode.Device + GoFileMode.CharDevice + 0o666);
    assert.equal(goFileMode(0o41777), GoFileMode.Dir + GoFileMode.Sticky + 0o777);
    assert.equal(formatGoFileMode(GoFileMode.Dir + 0o755), 'drwxr-xr-x');
    assert.equal(formatGoFileMode(GoFileMode.Symlink + 0o777), 'Lrwxrwxrwx');
    assert.equal(formatGoFileMode(0o644), '-rw-r--r--');
    assert.equal(formatGoFileMode(GoFileMode.Device + GoFileMode.CharDevice + 0o666), 'Dcrw-rw-rw-');
  });
});

describe('List', () => {
  test('root first, then its direct children in byte order', async () => {
    const infos = await list({ root: `${dir}/` });
    assert.deepEqual(rel(infos), ['.', 'B-upper', 'a', 'fifo', 'link', 'suid', 'z.bin']);
    assert.equal(infos[0].name, dir);
    assert.equal(infos[0].isDir, true);
    const link = infos.find((f) => f.relativeName === 'link')!;
    assert.equal(link.link, 'a/one.txt');
    assert.equal(link.mode, GoFileMode.Symlink + 0o777);
    const z = infos.find((f) => f.relativeName === 'z.bin')!;
    assert.equal(z.size, '70000');
    assert.equal(z.name, join(dir, 'z.bin'));
    assert.equal(z.modified, String(Math.floor(lstatSync(join(dir, 'z.bin')).mtimeMs / 1000)));
    assert.equal(z.uid, process.getuid!());
  });

  test('recursion depth: 0 = unlimited, N = N levels', async () => {
    assert.deepEqual(rel(await list({ root: join(dir, 'a'), recurse: true })), ['.', 'b', 'b/c', 'b/c/three.txt', 'b/two.txt', 'one.txt']);
    assert.deepEqual(rel(await list({ root: join(dir, 'a'), recurse: true, recursionDepth: 1 })), ['.', 'b', 'one.txt']);
    assert.deepEqual(rel(await list({ root: join(dir, 'a'), recurse: true, recursionDepth: 2 })), ['.', 'b', 'b/c', 'b/two.txt', 'one.txt']);
  });

  test('type filters apply to every entry and keep the depth limit', async () => {
    assert.deepEqual(rel(await list({ root: dir, recurse: true, types: [ListRequest_Type.DIRECTORY] })), ['.', 'a', 'a/b', 'a/b/c']);
    assert.deepEqual(rel(await list({ root: dir, types: [ListRequest_Type.REGULAR] })), ['B-upper', 'suid', 'z.bin']);
    assert.deepEqual(rel(await list({ root: dir, recurse: true, types: [ListRequest_Type.SYMLINK, ListRequest_Type.REGULAR] })), [
      'B-upper',
      'a/b/c/three.txt',
      'a/b/two.txt',
      'a/one.txt',
      'link',
      'suid',
      'z.bin',
    ]);
  });

  test('a file root is listed under its base name; a symlinked root is resolved', async () => {
    const one = await list({ root: join(dir, 'a/one.txt') });
    assert.deepEqual(
      one.map((f) => [f.name, f.relativeName, f.size]),
      [[join(dir, 'a/one.txt'), 'one.txt', '3']],
    );
    symlinkSync(join(dir, 'a/b'), join(dir, 'to-b'));
    try {
      const viaLink = await list({ root: join(dir, 'to-b') });
      assert.equal(viaLink[0].name, join(dir, 'a/b'));
      assert.deepEqual(rel(viaLink), ['.', 'c', 'two.txt']);
    } finally {
      rmSync(join(dir, 'to-b'));
    }
  });

  test('a missing root is an error naming it; entries that vanish come back with an error', async () => {
    await assert.rejects(list({ root: join(dir, 'nope') }), { code: 'BRONZE_SYS_NOT_FOUND', message: `lstat ${join(dir, 'nope')}: no such file or directory` });
    mkdirSync(join(dir, 'gone/inner'), { recursive: true });
    const it = walk(join(dir, 'gone'));
    assert.equal((await it.next()).value?.relPath, '.');
    assert.equal((await it.next()).value?.relPath, 'inner');
    rmSync(join(dir, 'gone/inner'), { recursive: true });
    const err = (await it.next()).value;
    assert.equal(err?.error, `open ${join(dir, 'gone/inner')}: no such file or directory`);
    assert.equal((await it.next()).done, true);
    rmSync(join(dir, 'gone'), { recursive: true });
  });

  test('"" and relative roots are made absolute', async () => {
    const infos = await list({ root: '' });
    assert.equal(infos[0].name, '/');
    assert.equal(infos[0].relativeName, '.');
    assert.ok(infos.some((f) => f.name === '/proc'));
  });

  test('an aborted walk stops', async () => {
    const ac = new AbortController();
    const it = listFiles(ListRequest.fromPartial({ root: dir, recurse: true }), ac.signal);
    await it.next();
    ac.abort();
    await assert.rejects(it.next(), { name: 'AbortError' });
  });
});

describe('DiskUsage', () => {
  const du = (req: Partial<DiskUsageRequest>) => collect(diskUsage({ paths: [], recursionDepth: 0, all: false, threshold: '0', ...req }));
  const size = (p: string) => BigInt(lstatSync(p).size);

  test('directory sizes are summed bottom-up, reported after their contents', async () => {
    const a = join(dir, 'a');
    const c = size(join(a, 'b/c')) + 3000n;
    const b = size(join(a, 'b')) + c + 7n;
    const total = size(a) + b + 3n;
    const out = await du({ paths: [a] });
    assert.deepEqual(
      out.map((d) => [d.relativeName, d.size]),
      [
        ['b/c', c.toString()],
        ['b', b.toString()],
        ['.', total.toString()],
      ],
    );
    const all = await du({ paths: [a], all: true });
    assert.deepEqual(
      all.map((d) => d.relativeName),
      ['b/c/three.txt', 'b/c', 'b/two.txt', 'b', 'one.txt', '.'],
    );
    const shallow = await du({ paths: [a], all: true, recursionDepth: 2 });
    assert.deepEqual(
      shallow.map((d) => d.relativeName),
      ['b', 'one.txt', '.'],
    );
    const big = await du({ paths: [a], all: true, threshold: '2000' });
    assert.deepEqual(
      big.map((d) => d.relativeName),
      ['b/c/three.txt', 'b/c', 'b', '.'],
    );
    const small = await du({ paths: [a], all: true, threshold: '-10' });
    assert.deepEqual(
      small.map((d) => d.relativeName),
      ['b/two.txt', 'one.txt'],
    );
  });

  test('every path is reported; a missing one comes back with an error', async () => {
    const out = await du({ paths: [join(dir, 'a/b/c'), join(dir, 'missing')] });
    assert.equal(out.length, 2);
    assert.equal(out[0].name, join(dir, 'a/b/c'));
    assert.equal(out[1].name, join(dir, 'missing'));
    assert.match(out[1].error, /no such file or directory/);
  });
});

describe('tar.gz', () => {
  async function extract(root: string): Promise<{ out: string; listing: string; errors: string[] }> {
    const { stream, result } = await tarGz(root);
    const gz = await buffer(stream);
    const out = mkdtempSync(join(tmpdir(), 'bronze-untar-'));
    const listing = execFileSync('tar', ['-tvzf', '-'], { input: gz }).toString();
    execFileSync('tar', ['-xzf', '-', '-C', out], { input: gz });
    return { out, listing, errors: (await result).errors };
  }

  test('a directory tree: contents, modes, links and special files round-trip through GNU tar', async () => {
    const { out, listing, errors } = await extract(dir);
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(readdirSync(out).sort(), ['B-upper', 'a', 'fifo', 'link', 'suid', 'z.bin']);
      assert.equal(readFileSync(join(out, 'a/b/c/three.txt'), 'utf8'), 'x'.repeat(3000));
      assert.deepEqual(readFileSync(join(out, 'z.bin')), Buffer.alloc(70_000, 7));
      assert.equal(lstatSync(join(out, 'link')).isSymbolicLink(), true);
      assert.equal(lstatSync(join(out, 'fifo')).isFIFO(), true);
      assert.equal(lstatSync(join(out, 'suid')).mode & 0o7777, 0o4755);
      assert.match(listing, /^drwx.* a\/$/m);
      assert.match(listing, /^lrwxrwxrwx .* link -> a\/one.txt$/m);
      assert.doesNotMatch(listing, /^\S+ \S+ +\d+ \S+ \S+ \.\/?$/m); // the root itself is not archived
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('long and non-ASCII names go through PAX headers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bronze-tarlong-'));
    const deep = join(root, ...Array.from({ length: 6 }, (_, i) => `directory-level-${i}-${'d'.repeat(30)}`));
    mkdirSync(deep, { recursive: true });
    const longFile = join(deep, `${'f'.repeat(120)}.txt`);
    writeFileSync(longFile, 'deep');
    writeFileSync(join(root, 'Ünïcödé ✓.txt'), 'utf8');
    symlinkSync('t'.repeat(150), join(root, 'longlink'));
    try {
      const { out, errors } = await extract(root);
      try {
        assert.deepEqual(errors, []);
        assert.equal(readFileSync(join(out, longFile.slice(root.length + 1)), 'utf8'), 'deep');
        assert.equal(readFileSync(join(out, 'Ünïcödé ✓.txt'), 'utf8'), 'utf8');
        assert.equal(execFileSync('readlink', [join(out, 'longlink')]).toString().trim(), 't'.repeat(150));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a single file under its base name; /proc files with size 0 keep their content', async () => {
    const one = await extract(join(dir, 'a/one.txt'));
    try {
      assert.deepEqual(readdirSync(one.out), ['one.txt']);
    } finally {
      rmSync(one.out, { recursive: true, force: true });
    }
    const proc = await extract('/proc/sys/kernel/random');
    try {
      assert.equal(readFileSync(join(proc.out, 'boot_id'), 'utf8'), readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
    } finally {
      rmSync(proc.out, { recursive: true, force: true });
    }
  });

  test('relative roots are refused; headers checksum as ustar', async () => {
    await assert.rejects(tarGz('etc'), { code: 'BRONZE_SYS_INVALID_ARGUMENT', message: 'path is not absolute etc' });
    const h = encodeTarHeader({ name: 'x', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, type: 'file' });
    assert.equal(h.length, 512);
    assert.equal(h.subarray(257, 263).toString(), 'ustar\0');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    assert.equal(parseInt(h.subarray(148, 154).toString(), 8), sum);
    const { stream } = await tarGz(join(dir, 'a'));
    const tar = gunzipSync(await buffer(stream));
    assert.equal(tar.length % 512, 0);
    assert.deepEqual(tar.subarray(tar.length - 1024), Buffer.alloc(1024));
  });
});
