import { mkdir, open, rm, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { TarParser } from '../sys/files/tar-reader.js';

/** The contents of one regular file in a gzip'd tar. */
export function extractFileFromTarGz(name: string, archive: Buffer): Buffer {
  const found = new TarParser().push(gunzipSync(archive)).find((e) => e.type === 'file' && e.name === name);
  if (!found) throw new Error(`file "${name}" not found in the archive`);
  return found.body;
}

/** The place of an archive entry under `dest`, refusing names that would leave it. */
function target(dest: string, name: string): string {
  const clean = normalize(name);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) throw new Error(`archive entry "${name}" points outside the destination`);
  return join(dest, clean);
}

/**
 * Unpacks a .tar.gz stream into `dest` as talosctl's copy does: directories and regular files (ownership and modes
 * are not kept), symbolic links as they are, hard links as copies; devices and fifos are skipped. Returns the number
 * of entries written.
 */
export async function extractTarGz(chunks: AsyncIterable<Buffer>, dest: string): Promise<number> {
  const gunzip = createGunzip();
  const source = Readable.from(chunks);
  source.on('error', (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  const written = new Map<string, Buffer>();
  let n = 0;
  const parser = new TarParser();
  const entries = async function* () {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield* parser.push(chunk);
    parser.end();
  };
  for await (const e of entries()) {
    if (e.name === '' || e.name === '.') continue;
    const path = target(dest, e.name);
    if (e.type === 'directory') await mkdir(path, { recursive: true });
    else if (e.type === 'file' || e.type === 'hardlink') {
      const body = e.type === 'file' ? e.body : written.get(normalize(e.linkname.replace(/^(\.\/)+/, '')));
      if (!body) continue;
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(path, 'w', 0o644);
      try {
        await fh.writeFile(body);
      } finally {
        await fh.close();
      }
      written.set(normalize(e.name), body);
    } else if (e.type === 'symlink') {
      await mkdir(dirname(path), { recursive: true });
      await rm(path, { force: true });
      await symlink(e.linkname, path);
    } else continue;
    n++;
  }
  return n;
}
