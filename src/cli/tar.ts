import { gunzipSync } from 'node:zlib';

/** The contents of one regular file in a gzip'd tar (ustar, with GNU long names and pax headers skipped over). */
export function extractFileFromTarGz(name: string, archive: Buffer): Buffer {
  const tar = gunzipSync(archive);
  const field = (h: Buffer, start: number, len: number) => h.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = Number.parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const prefix = field(h, 257, 6).startsWith('ustar') ? field(h, 345, 155) : '';
    const entry = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if ((type === '0' || type === '\0') && entry.replace(/^\.\//, '') === name) return Buffer.from(body);
  }
  throw new Error(`file "${name}" not found in the archive`);
}
