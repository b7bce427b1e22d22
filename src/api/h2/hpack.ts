/**
 * HPACK (RFC 7541) for the project's HTTP/2 connections. Decoding follows the peer's encoder completely (static and
 * dynamic table, Huffman strings). Encoding keeps a dynamic table per connection: a field is sent as an index when
 * either table has it, else as a literal added to the dynamic table, except fields that change from call to call
 * (deadlines, lengths, error messages) or would crowd the table out. A gRPC connection repeats the same few fields on
 * every call, so after its first calls most of a header block is one byte per field, and the peer's decoder finds
 * them in its table instead of reading strings. Strings are sent as they are (no Huffman coding). Names and values
 * are carried as latin1 strings, byte for byte.
 */

export class HpackError extends Error {
  readonly code = 'BRONZE_HPACK';
  constructor(message: string) {
    super(`header block: ${message}`);
    this.name = 'HpackError';
  }
}

/** A well-formed header block whose list is larger than this side accepts (the decoder's table is up to date). */
export class HeaderListTooLarge extends Error {
  readonly code = 'BRONZE_HPACK_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`header list of ${size} bytes, larger than ${limit}`);
    this.name = 'HeaderListTooLarge';
  }
}

/** A header field as it travels: lower-case name, value. */
export type HeaderField = [name: string, value: string];

const STATIC_NAMES =
  ':authority :method :method :path :path :scheme :scheme :status :status :status :status :status :status :status ' +
  'accept-charset accept-encoding accept-language accept-ranges accept access-control-allow-origin age allow ' +
  'authorization cache-control content-disposition content-encoding content-language content-length ' +
  'content-location content-range content-type cookie date etag expect expires from host if-match ' +
  'if-modified-since if-none-match if-range if-unmodified-since last-modified link location max-forwards ' +
  'proxy-authenticate proxy-authorization range referer refresh retry-after server set-cookie ' +
  'strict-transport-security transfer-encoding user-agent vary via www-authenticate';
const STATIC_VALUES: Record<number, string> = {
  2: 'GET', 3: 'POST', 4: '/', 5: '/index.html', 6: 'http', 7: 'https',
  8: '200', 9: '204', 10: '206', 11: '304', 12: '400', 13: '404', 14: '500',
  16: 'gzip, deflate',
};

/** The static table, 1-based as on the wire (entry 0 unused). */
export const STATIC_TABLE: readonly HeaderField[] = [
  ['', ''],
  ...STATIC_NAMES.split(' ').map((name, i): HeaderField => [name, STATIC_VALUES[i + 1] ?? '']),
];
const STATIC_COUNT = STATIC_TABLE.length - 1;

/** Where a name is in a table: the index (or insertion number) naming it, and those of its fields by value. */
interface NameEntry {
  index: number;
  values: Map<string, number>;
}

/** The static table by name: the first index with that name, and the exact fields it has */
const staticByName = new Map<string, NameEntry>();
for (let i = STATIC_COUNT; i >= 1; i--) {
  const [n, v] = STATIC_TABLE[i]!;
  const e = staticByName.get(n) ?? { index: i, values: new Map<string, number>() };
  e.index = i;
  if (v !== '') e.values.set(v, i);
  staticByName.set(n, e);
}

/**
 * Huffman code lengths of symbols 0..255 and EOS (256), from RFC 7541 Appendix B. The code is canonical: codes are
 * handed out in order of length, then symbol, so the lengths define it.
 */
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;
const MAX_CODE_LENGTH = 30;

/** Canonical decoding tables: per code length, the first code, how many codes, where their symbols start. */
const firstCode = new Int32Array(MAX_CODE_LENGTH + 2);
const codeCount = new Int32Array(MAX_CODE_LENGTH + 2);
const symbolStart = new Int32Array(MAX_CODE_LENGTH + 2);
const symbolsByCode: number[] = [];
{
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    symbolStart[len] = symbolsByCode.length;
    HUFFMAN_LENGTHS.forEach((l, sym) => {
      if (l === len) symbolsByCode.push(sym);
    });
    codeCount[len] = symbolsByCode.length - symbolStart[len]!;
  }
  let code = 0;
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    code = (code + (len > 1 ? codeCount[len - 1]! : 0)) << (len > 1 ? 1 : 0);
    firstCode[len] = code;
  }
}

/** The canonical code of a symbol. */
function huffmanCode(symbol: number): { code: number; length: number } {
  const length = HUFFMAN_LENGTHS[symbol]!;
  const rank = symbolsByCode.indexOf(symbol, symbolStart[length]) - symbolStart[length]!;
  return { code: firstCode[length]! + rank, length };
}

/** Decodes a Huffman-coded string (RFC 7541 §5.2); padding must be at most 7 one-bits. */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const rank = code - firstCode[len]!;
      if (rank >= 0 && rank < codeCount[len]!) {
        const sym = symbolsByCode[symbolStart[len]! + rank]!;
        if (sym === EOS) throw new HpackError('EOS in a Huffman string');
        out += String.fromCharCode(sym);
        code = 0;
        len = 0;
      } else if (len >= MAX_CODE_LENGTH) throw new HpackError('invalid Huffman code');
    }
  }
  // what is left must be a prefix of EOS (all ones), shorter than a byte
  if (len > 7 || code !== (1 << len) - 1) throw new HpackError('invalid Huffman padding');
  return out;
}

/** Encodes a string with the Huffman code (used where a peer's encoder is imitated, e.g. in tests). */
export function huffmanEncode(s: string): Buffer {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const { code, length } = huffmanCode(s.charCodeAt(i) & 0xff);
    for (let b = length - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code >>> b) & 1);
      if (++bits === 8) {
        bytes.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) bytes.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(bytes);
}

const EMPTY = Buffer.alloc(0);

/** Per-entry overhead of the dynamic table's size accounting (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/** Decodes the header blocks of one direction of a connection; keeps the dynamic table between blocks. */
export class HpackDecoder {
  /** newest first */
  private table: HeaderField[] = [];
  private size = 0;
  private maxSize: number;
  /** the block being decoded and the read position in it */
  private block: Buffer = EMPTY;
  private pos = 0;

  /** `settingsMax`: the SETTINGS_HEADER_TABLE_SIZE this side announced; the encoder may not go above it. */
  constructor(private readonly settingsMax = 4096) {
    this.maxSize = settingsMax;
  }

  /**
   * Decodes one header block. A list over `maxListBytes` is decoded to its end all the same, since the dynamic table
   * must follow every block, but its fields are dropped and `HeaderListTooLarge` is thrown after: the connection stays
   * usable and only the stream the block belongs to fails.
   */
  decode(data: Uint8Array, maxListBytes = 1 << 20): HeaderField[] {
    const block = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    this.block = block;
    this.pos = 0;
    const out: HeaderField[] = [];
    let listBytes = 0;
    let fieldsSeen = false;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      let field: HeaderField;
      if (b & 0x80) {
        field = this.entry(this.int(7));
      } else if ((b & 0xe0) === 0x20) {
        // dynamic table size update: only before the first field
        if (fieldsSeen) throw new HpackError('table size update after a field');
        const n = this.int(5);
        if (n > this.settingsMax) throw new HpackError(`table size ${n} above the announced ${this.settingsMax}`);
        this.maxSize = n;
        this.evict(0);
        continue;
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const index = this.int(incremental ? 6 : 4);
        const name = index === 0 ? this.str() : this.entry(index)[0];
        field = [name, this.str()];
        if (incremental) this.add(field);
      }
      fieldsSeen = true;
      listBytes += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listBytes <= maxListBytes) out.push(field);
    }
    this.block = EMPTY;
    if (listBytes > maxListBytes) throw new HeaderListTooLarge(listBytes, maxListBytes);
    return out;
  }

  /** An integer with a `prefixBits` prefix at the read position (RFC 7541 §5.1). */
  private int(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let v = block[this.pos++]! & mask;
    if (v < mask) return v;
    let shift = 0;
    for (;;) {
      if (this.pos >= block.length) throw new HpackError('truncated integer');
      const b = block[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
      if (shift > 28) throw new HpackError('integer too large');
    }
  }

  /** A string literal at the read position, Huffman-coded or not (RFC 7541 §5.2). */
  private str(): string {
    const block = this.block;
    if (this.pos >= block.length) throw new HpackError('truncated string');
    const huffman = (block[this.pos]! & 0x80) !== 0;
    const n = this.int(7);
    const at = this.pos;
    if (at + n > block.length) throw new HpackError('truncated string');
    this.pos = at + n;
    return huffman ? huffmanDecode(block, at, at + n) : block.toString('latin1', at, at + n);
  }

  private entry(index: number): HeaderField {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC_COUNT) return STATIC_TABLE[index]!;
    const e = this.table[index - STATIC_COUNT - 1];
    if (!e) throw new HpackError(`index ${index} out of range`);
    return e;
  }

  private add(f: HeaderField): void {
    const n = f[0].length + f[1].length + ENTRY_OVERHEAD;
    if (n > this.maxSize) {
      this.table = [];
      this.size = 0;
      return;
    }
    this.evict(n);
    this.table.unshift(f);
    this.size += n;
  }

  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.table.length > 0) {
      const f = this.table.pop()!;
      this.size -= f[0].length + f[1].length + ENTRY_OVERHEAD;
    }
  }
}

/** Writes an HPACK integer (RFC 7541 §5.1) with `first`'s high bits above a `prefixBits` prefix; returns the end. */
function putInt(b: Buffer, pos: number, value: number, prefixBits: number, first: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    b[pos++] = first | value;
    return pos;
  }
  b[pos++] = first | mask;
  let v = value - mask;
  while (v >= 0x80) {
    b[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[pos++] = v;
  return pos;
}

/** A string literal without Huffman coding. */
function putString(b: Buffer, pos: number, s: string): number {
  pos = putInt(b, pos, s.length, 7, 0);
  return pos + b.write(s, pos, s.length, 'latin1');
}

/** A dynamic table size update (RFC 7541 §6.3), for the start of a header block. */
export function tableSizeUpdate(size: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  return b.subarray(0, putInt(b, 0, size, 5, 0x20));
}

/** Fields not worth a table entry (unless empty): their values differ from one call to the next. */
const NOT_INDEXED = new Set(['grpc-timeout', 'content-length', 'grpc-message', 'date', 'authorization', 'cookie', 'set-cookie']);

/** The table size both sides start with (RFC 7541 §4.2, SETTINGS_HEADER_TABLE_SIZE's default). */
const DEFAULT_TABLE_SIZE = 4096;

/** Encodes the header blocks of one direction of a connection, with a dynamic table the peer's decoder mirrors. */
export class HpackEncoder {
  /** the table's entries, oldest first; the first is insertion number `oldest` */
  private entries: { name: string; value: string; size: number }[] = [];
  private oldest = 1;
  /** insertion number of the newest entry: entry number k is wire index 62 + (inserted - k) */
  private inserted = 0;
  private size = 0;
  /** the dynamic table by name: the newest entry with that name, and the newest of each of its fields */
  private readonly byName = new Map<string, NameEntry>();
  private maxSize: number;
  /** size updates owed to the peer at the start of the next block: the smallest since the last block, then the last */
  private lowest: number | undefined;
  private updated = false;
  /** counts changes of the table: a block encoded at the same count from the same fields has the same bytes */
  private changes = 0;
  /**
   * The last few blocks that left the table as it was, and what each was encoded from, while the table stays so.
   * Every call on a connection sends the same few header lists (request headers, response headers, trailers; a
   * fan-out one list on every stream), and once the table holds their fields, the same fields give the same bytes.
   */
  private recent: { fields: readonly HeaderField[]; block: Buffer }[] = [];
  private recentAt = 0;

  constructor(maxSize = DEFAULT_TABLE_SIZE) {
    this.maxSize = maxSize;
  }

  /** The peer announced SETTINGS_HEADER_TABLE_SIZE: the table follows it (up to 4096), and the next block says so. */
  setMaxSize(peerSetting: number): void {
    const size = Math.min(peerSetting, DEFAULT_TABLE_SIZE);
    this.lowest = Math.min(this.lowest ?? size, size);
    this.updated = true;
    this.maxSize = size;
    this.changes++;
    this.evict(0);
  }

  /** One header block, after `headroom` bytes left for the caller (a frame header). */
  encode(fields: readonly HeaderField[], headroom = 0): Buffer {
    if (this.recentAt !== this.changes) {
      this.recent = [];
      this.recentAt = this.changes;
    }
    for (const r of this.recent) {
      if (!sameFields(r.fields, fields)) continue;
      const b = Buffer.allocUnsafe(headroom + r.block.length);
      r.block.copy(b, headroom);
      return b;
    }
    // a block that starts with a size update, or changes the table, is not what the same fields give next time
    const reusable = !this.updated;
    const changesBefore = this.changes;
    let room = headroom + 12;
    for (const [name, value] of fields) room += name.length + value.length + 16;
    const b = Buffer.allocUnsafe(room);
    let pos = headroom;
    if (this.updated) {
      if (this.lowest! < this.maxSize) pos = putInt(b, pos, this.lowest!, 5, 0x20);
      pos = putInt(b, pos, this.maxSize, 5, 0x20);
      this.updated = false;
      this.lowest = undefined;
    }
    for (const [name, value] of fields) {
      const st = staticByName.get(name);
      const dyn = this.byName.get(name);
      let exact = st?.values.get(value);
      if (exact === undefined && dyn) {
        const n = dyn.values.get(value);
        if (n !== undefined) exact = this.wireIndex(n);
      }
      if (exact !== undefined) {
        pos = putInt(b, pos, exact, 7, 0x80);
        continue;
      }
      const nameIndex = st ? st.index : dyn ? this.wireIndex(dyn.index) : 0;
      const entrySize = name.length + value.length + ENTRY_OVERHEAD;
      const index = entrySize <= this.maxSize / 2 && (value === '' || !NOT_INDEXED.has(name));
      // literal with incremental indexing (01), or without indexing (0000)
      pos = index ? putInt(b, pos, nameIndex, 6, 0x40) : putInt(b, pos, nameIndex, 4, 0x00);
      if (nameIndex === 0) pos = putString(b, pos, name);
      pos = putString(b, pos, value);
      if (index) this.add(name, value, entrySize, dyn);
    }
    if (reusable && this.changes === changesBefore && pos - headroom <= RECENT_BLOCK_MAX) {
      if (this.recent.length >= RECENT_BLOCKS) this.recent.pop();
      // a copy: the caller's list may change after this
      this.recent.unshift({ fields: fields.map(([n, v]) => [n, v] as HeaderField), block: b.subarray(headroom, pos) });
    }
    return b.subarray(0, pos);
  }

  /** The wire index of the dynamic entry with insertion number `n` (still in the table). */
  private wireIndex(n: number): number {
    return STATIC_COUNT + 1 + this.inserted - n;
  }

  private add(name: string, value: string, size: number, dyn: NameEntry | undefined): void {
    this.changes++;
    this.evict(size);
    const n = ++this.inserted;
    this.entries.push({ name, value, size });
    this.size += size;
    // the name's record may have gone with the eviction
    const e = (dyn && this.byName.get(name)) ?? { index: n, values: new Map<string, number>() };
    e.index = n;
    e.values.set(value, n);
    this.byName.set(name, e);
  }

  /**
   * Evicts the oldest entries until `room` more bytes fit. Entries leave oldest first, so an entry that is the newest
   * of its name takes the name's record with it.
   */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.maxSize && drop < this.entries.length) {
      const e = this.entries[drop]!;
      const n = this.oldest + drop;
      this.size -= e.size;
      const rec = this.byName.get(e.name)!;
      if (rec.index === n) this.byName.delete(e.name);
      else if (rec.values.get(e.value) === n) rec.values.delete(e.value);
      drop++;
    }
    if (drop > 0) {
      this.entries.splice(0, drop);
      this.oldest += drop;
    }
  }
}

/** how many recent blocks an encoder keeps for reuse, and the largest it keeps (the usual ones are tens of bytes) */
const RECENT_BLOCKS = 4;
const RECENT_BLOCK_MAX = 4096;

function sameFields(a: readonly HeaderField[], b: readonly HeaderField[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

/** Encodes header fields on their own, without a dynamic table (for tests, and blocks sent outside a connection). */
export function encodeHeaders(fields: readonly HeaderField[]): Buffer {
  return new HpackEncoder(0).encode(fields);
}
