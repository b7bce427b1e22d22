/**
 * Reading tar archives (what the node's Copy sends, image archives): ustar names with prefixes, GNU long names and
 * links, PAX `path` and `linkpath` records, base-256 sizes; headers are checked against their checksums.
 */
const BLOCK = 512;

interface Header {
  name: string;
  type: string;
  size: number;
  linkname: string;
}

const field = (h: Buffer, start: number, len: number) => h.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');

/** Reads a numeric header field: octal text, or base-256 when the high bit of the first byte is set. */
function numeric(h: Buffer, start: number, len: number): number {
  if ((h[start]! & 0x80) !== 0) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + h[i]!;
    return v;
  }
  return Number.parseInt(field(h, start, len).trim() || '0', 8);
}

/** Whether the header's checksum field matches its bytes (the field itself counted as spaces). */
function checksumOK(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === numeric(h, 148, 8);
}

function parseHeader(h: Buffer): Header {
  const prefix = field(h, 257, 6).startsWith('ustar') ? field(h, 345, 155) : '';
  const name = field(h, 0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, type: String.fromCharCode(h[156]!), size: numeric(h, 124, 12), linkname: field(h, 157, 100) };
}

/** The records of a PAX extended header (`<len> key=value\n`). */
function paxRecords(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < body.length) {
    const space = body.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(body.subarray(off, space).toString());
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = body.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

export interface TarEntry {
  /** the path inside the archive, without a leading `./` */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  linkname: string;
  /** the contents of a regular file, empty for the others */
  body: Buffer;
}

/**
 * Splits a tar stream into entries as its bytes arrive: ustar names with prefixes, GNU long names and links, and PAX
 * `path` and `linkpath` records.
 */
export class TarParser {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { header: Header; need: number } | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax = new Map<string, string>();
  /** bytes of the archive consumed so far (for messages) */
  private offset = 0;

  /** `views`: file bodies are views into the pushed chunks instead of copies (for an archive pushed whole) */
  constructor(private readonly views = false) {}

  /** Takes the next bytes and returns the entries they complete. */
  push(chunk: Buffer): TarEntry[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: TarEntry[] = [];
    for (;;) {
      if (!this.pending) {
        if (this.buf.length < BLOCK) return out;
        const h = this.buf.subarray(0, BLOCK);
        this.buf = this.buf.subarray(BLOCK);
        const at = this.offset;
        this.offset += BLOCK;
        if (h.every((b) => b === 0)) continue;
        if (!checksumOK(h)) throw new Error(`invalid tar archive: bad header checksum at offset ${at}`);
        const header = parseHeader(h);
        this.pending = { header, need: Math.ceil(header.size / BLOCK) * BLOCK };
      }
      if (this.buf.length < this.pending.need) return out;
      const { header } = this.pending;
      const view = this.buf.subarray(0, header.size);
      const body = this.views ? view : Buffer.from(view);
      this.buf = this.buf.subarray(this.pending.need);
      this.offset += this.pending.need;
      this.pending = undefined;
      if (header.type === 'L') this.longName = body.toString('utf8').replace(/\0.*$/s, '');
      else if (header.type === 'K') this.longLink = body.toString('utf8').replace(/\0.*$/s, '');
      else if (header.type === 'x') this.pax = paxRecords(body);
      else if (header.type !== 'g') {
        const name = (this.pax.get('path') ?? this.longName ?? header.name).replace(/^(\.\/)+/, '');
        const linkname = this.pax.get('linkpath') ?? this.longLink ?? header.linkname;
        this.longName = this.longLink = undefined;
        this.pax = new Map();
        const t = header.type;
        const type = t === '0' || t === '\0' || t === '7' ? 'file' : t === '5' ? 'directory' : t === '2' ? 'symlink' : t === '1' ? 'hardlink' : 'other';
        out.push({ name, type, linkname, body: type === 'file' ? body : Buffer.alloc(0) });
      }
    }
  }

  /** Fails when the stream stopped inside an entry. */
  end(): void {
    if (this.pending) throw new Error('the archive ends inside an entry');
  }
}
