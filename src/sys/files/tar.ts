import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { SysError } from '../errors.js';
import { walk, type WalkItem } from './walk.js';

const BLOCK = 512;

/** One entry of a tar stream. */
export interface TarHeader {
  name: string;
  /** POSIX permission and setuid/setgid/sticky bits (07777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** unix seconds */
  mtime: number;
  type: 'file' | 'directory' | 'symlink' | 'char' | 'block' | 'fifo';
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarHeader['type'], string> = { file: '0', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Fits `value` into an octal field of `width` bytes (NUL-terminated), or returns undefined when it does not fit. */
function octal(value: number, width: number): string | undefined {
  if (!Number.isInteger(value) || value < 0) return undefined;
  const s = value.toString(8);
  if (s.length > width - 1) return undefined;
  return s.padStart(width - 1, '0');
}

/** A PAX extended header record: `<len> <key>=<value>\n`, where len counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(len - bodyLen).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

/** Splits a long ASCII path into the ustar prefix (≤155) and name (≤100) fields at a `/`, or returns undefined. */
function splitUstarName(name: string): [string, string] | undefined {
  if (name.length <= 100) return ['', name];
  if (name.length > 256) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return [prefix, rest];
    if (prefix.length <= 155) break;
  }
  return undefined;
}

function writeField(buf: Buffer, offset: number, width: number, value: string): void {
  buf.write(value, offset, Math.min(width, Buffer.byteLength(value)), 'utf8');
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

function ustarBlock(h: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; uname: string; gname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeField(b, 0, 100, h.name);
  writeField(b, 100, 8, octal(h.mode, 8)!);
  writeField(b, 108, 8, octal(h.uid, 8) ?? '0000000');
  writeField(b, 116, 8, octal(h.gid, 8) ?? '0000000');
  writeField(b, 124, 12, octal(h.size, 12) ?? '00000000000');
  writeField(b, 136, 12, octal(h.mtime, 12) ?? '00000000000');
  b.write(h.typeflag, 156, 1, 'ascii');
  writeField(b, 157, 100, h.linkname);
  b.write('ustar\x0000', 257, 8, 'binary');
  writeField(b, 265, 32, h.uname);
  writeField(b, 297, 32, h.gname);
  writeField(b, 329, 8, octal(h.devmajor, 8) ?? '0000000');
  writeField(b, 337, 8, octal(h.devminor, 8) ?? '0000000');
  writeField(b, 345, 155, h.prefix);
  b.write(`${checksum(b).toString(8).padStart(6, '0')}\0 `, 148, 8, 'binary');
  return b;
}

/**
 * Encodes one tar header: a ustar block, preceded by a PAX extended header when a field does not fit ustar (paths
 * longer than the prefix/name split allows or not ASCII, long or non-ASCII link targets, sizes ≥ 8 GiB, large ids,
 * times before 1970 or past 2242).
 */
export function encodeTarHeader(h: TarHeader): Buffer {
  const pax: string[] = [];
  let name = h.name;
  let prefix = '';
  const split = isAscii(h.name) ? splitUstarName(h.name) : undefined;
  if (split) [prefix, name] = split;
  else {
    pax.push(paxRecord('path', h.name));
    name = Buffer.from(h.name).subarray(0, 100).toString('latin1').replace(/[^\x20-\x7e]/g, '_');
  }
  let linkname = h.linkname ?? '';
  if (linkname.length > 100 || !isAscii(linkname)) {
    pax.push(paxRecord('linkpath', linkname));
    linkname = '';
  }
  if (octal(h.size, 12) === undefined) pax.push(paxRecord('size', String(h.size)));
  if (octal(h.mtime, 12) === undefined) pax.push(paxRecord('mtime', String(h.mtime)));
  if (octal(h.uid, 8) === undefined) pax.push(paxRecord('uid', String(h.uid)));
  if (octal(h.gid, 8) === undefined) pax.push(paxRecord('gid', String(h.gid)));
  const fields = {
    name,
    prefix,
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    mtime: h.mtime,
    typeflag: TYPEFLAG[h.type],
    linkname,
    uname: isAscii(h.uname ?? '') ? (h.uname ?? '') : '',
    gname: isAscii(h.gname ?? '') ? (h.gname ?? '') : '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
  const main = ustarBlock(fields);
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''));
  const base = name.split('/').pop() || 'entry';
  const paxHeader = ustarBlock({ ...fields, name: `PaxHeaders.0/${base}`.slice(0, 100), prefix: '', size: body.length, typeflag: 'x', linkname: '' });
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}

/** Zero bytes up to the next 512-byte boundary. */
export function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2);

const CHUNK = 64 * 1024;

function tarType(item: WalkItem): TarHeader['type'] | undefined {
  const st = item.stat!;
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets cannot be archived
}

/** Yields one entry (header, data, padding). A file that shrinks while being read is padded, one that grows is cut. */
async function* entry(item: WalkItem, onError: (message: string) => void): AsyncGenerator<Buffer> {
  const st = item.stat!;
  const type = tarType(item);
  if (!type) throw new Error('archive/tar: sockets not supported');
  const header: TarHeader = {
    name: type === 'directory' ? `${item.relPath}/` : item.relPath,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: type === 'file' ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    type,
    linkname: item.link,
    devmajor: type === 'char' || type === 'block' ? Math.floor(st.rdev / 256) & 0xfff : 0,
    devminor: type === 'char' || type === 'block' ? (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) : 0,
  };
  if (type !== 'file') {
    yield encodeTarHeader(header);
    return;
  }
  const fh = await open(item.fullPath, 'r');
  try {
    if (header.size === 0) {
      // /proc and /sys files report size 0 but have content: take up to one page, as Talos does
      const probe = Buffer.alloc(4096);
      let n = 0;
      try {
        n = (await fh.read(probe, 0, probe.length, 0)).bytesRead;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      }
      if (n === 0 || n === probe.length) {
        yield encodeTarHeader(header);
        return;
      }
      header.size = n;
      yield encodeTarHeader(header);
      yield probe.subarray(0, n);
      yield padding(n);
      return;
    }
    yield encodeTarHeader(header);
    let written = 0;
    try {
      while (written < header.size) {
        const buf = Buffer.alloc(Math.min(CHUNK, header.size - written));
        const { bytesRead } = await fh.read(buf, 0, buf.length, written);
        if (bytesRead === 0) break;
        written += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    } catch (e) {
      // the header is out already: keep the archive well-formed and report the file
      onError(e instanceof Error ? e.message : String(e));
    }
    if (written < header.size) yield Buffer.alloc(header.size - written);
    yield padding(header.size);
  } finally {
    await fh.close();
  }
}

export interface ArchiveResult {
  /** entries that were skipped, as `skipping "<path>": <reason>` */
  errors: string[];
}

export interface Archive {
  /** the gzip-compressed tar stream */
  stream: Readable;
  /** settles when the stream has been fully produced */
  result: Promise<ArchiveResult>;
}

/**
 * Streams a .tar.gz of `rootPath` as Talos's Copy does: a directory's contents with paths relative to it (the
 * directory itself is left out), or a single file under its base name. Entries that cannot be read or archived are
 * skipped and listed in `result.errors`. `rootPath` must be absolute; a missing root throws before anything is
 * streamed. Backpressure is honoured: the tree is read only as fast as the consumer takes data.
 */
export async function tarGz(rootPath: string, opts: { signal?: AbortSignal; level?: number } = {}): Promise<Archive> {
  if (!rootPath.startsWith('/')) throw new SysError('BRONZE_SYS_INVALID_ARGUMENT', `path is not absolute ${rootPath}`);
  const items = walk(rootPath, { skipRoot: true, signal: opts.signal });
  const first = await items.next(); // reads the root: errors surface here, synchronously for the caller
  const errors: string[] = [];
  let settle!: (r: ArchiveResult) => void;
  let fail!: (e: unknown) => void;
  const result = new Promise<ArchiveResult>((res, rej) => {
    settle = res;
    fail = rej;
  });
  result.catch(() => {});
  async function* produce(): AsyncGenerator<Buffer> {
    try {
      let next = first;
      while (!next.done) {
        const item = next.value;
        if (item.error !== undefined || !item.stat) errors.push(`skipping ${JSON.stringify(item.fullPath)}: ${item.error}`);
        else {
          try {
            yield* entry(item, (m) => errors.push(`skipping ${JSON.stringify(item.fullPath)}: ${m}`));
          } catch (e) {
            errors.push(`skipping ${JSON.stringify(item.fullPath)}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        next = await items.next();
      }
      yield TAR_END;
      settle({ errors });
    } catch (e) {
      fail(e);
      throw e;
    }
  }
  const tar = Readable.from(produce(), { objectMode: false });
  const gzip = createGzip({ level: opts.level ?? 6 });
  tar.on('error', (e) => gzip.destroy(e));
  tar.pipe(gzip);
  return { stream: gzip, result };
}
