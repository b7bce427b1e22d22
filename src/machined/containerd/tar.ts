/**
 * Reads the regular files of a tar archive held in memory (ustar, with pax `path` records and GNU long names), as
 * image archives are: name → contents (views into the buffer, no copies). Directories, links and other entries are
 * skipped; a truncated or corrupt archive is an error naming the offset.
 */
export function readTar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    if (!checksumOK(header)) throw new Error(`invalid tar archive: bad header checksum at offset ${off}`);
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = off + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new Error(`invalid tar archive: entry at offset ${off} runs past the end`);
    const data = buf.subarray(dataStart, dataEnd);
    const prefix = cstring(header.subarray(345, 500));
    const base = cstring(header.subarray(0, 100));
    let name = longName ?? paxPath ?? (prefix ? `${prefix}/${base}` : base);
    longName = undefined;
    paxPath = undefined;
    switch (type) {
      case 'L':
        longName = cstring(data);
        break;
      case 'x':
        paxPath = paxRecords(data).path;
        break;
      case 'g':
        break;
      case '0':
      case '\0':
      case '7':
        name = name.replace(/^\.\//, '').replace(/^\/+/, '');
        files.set(name, data);
        break;
      default:
        break;
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}

function cstring(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function parseOctal(b: Buffer): number {
  if (b[0] & 0x80) {
    // base-256 (GNU) for large sizes
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return n;
  }
  const s = cstring(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOK(h: Buffer): boolean {
  const want = parseOctal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === want;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = parseInt(data.subarray(off, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}
