/**
 * HPACK (RFC 7541) for apid's HTTP/2 connections. Decoding follows the peer's encoder completely (static and dynamic
 * table, Huffman strings); encoding is stateless: fields are indexed only when the static table has them exactly,
 * everything else is a literal that is not added to the table, so a decoder's table on the other side never changes
 * and no size update is ever needed. Names and values are carried as latin1 strings, byte for byte.
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

/** name → first static index; `name\0value` → static index of the exact field */
const staticName = new Map<string, number>();
const staticField = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) {
  const [n, v] = STATIC_TABLE[i]!;
  staticName.set(n, i);
  if (v !== '') staticField.set(`${n}\0${v}`, i);
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

/** Per-entry overhead of the dynamic table's size accounting (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/** Decodes the header blocks of one direction of a connection; keeps the dynamic table between blocks. */
export class HpackDecoder {
  /** newest first */
  private table: HeaderField[] = [];
  private size = 0;
  private maxSize: number;

  /** `settingsMax`: the SETTINGS_HEADER_TABLE_SIZE this side announced; the encoder may not go above it. */
  constructor(private readonly settingsMax = 4096) {
    this.maxSize = settingsMax;
  }

  /**
   * Decodes one header block. A list over `maxListBytes` is decoded to its end all the same, since the dynamic table
   * must follow every block, but its fields are dropped and `HeaderListTooLarge` is thrown after: the connection stays
   * usable and only the stream the block belongs to fails.
   */
  decode(block: Uint8Array, maxListBytes = 1 << 20): HeaderField[] {
    const out: HeaderField[] = [];
    let listBytes = 0;
    let pos = 0;
    let fieldsSeen = false;
    const int = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let v = block[pos++]! & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (pos >= block.length) throw new HpackError('truncated integer');
        const b = block[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return v;
        shift += 7;
        if (shift > 28) throw new HpackError('integer too large');
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError('truncated string');
      const huffman = (block[pos]! & 0x80) !== 0;
      const n = int(7);
      if (pos + n > block.length) throw new HpackError('truncated string');
      const s = huffman ? huffmanDecode(block, pos, pos + n) : Buffer.from(block.buffer, block.byteOffset + pos, n).toString('latin1');
      pos += n;
      return s;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      let field: HeaderField;
      if (b & 0x80) {
        field = this.entry(int(7));
      } else if ((b & 0xe0) === 0x20) {
        // dynamic table size update: only before the first field
        if (fieldsSeen) throw new HpackError('table size update after a field');
        const n = int(5);
        if (n > this.settingsMax) throw new HpackError(`table size ${n} above the announced ${this.settingsMax}`);
        this.maxSize = n;
        this.evict(0);
        continue;
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const index = int(incremental ? 6 : 4);
        const name = index === 0 ? str() : this.entry(index)[0];
        field = [name, str()];
        if (incremental) this.add(field);
      }
      fieldsSeen = true;
      listBytes += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listBytes <= maxListBytes) out.push(field);
    }
    if (listBytes > maxListBytes) throw new HeaderListTooLarge(listBytes, maxListBytes);
    return out;
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

function pushInt(out: number[], value: number, prefixBits: number, first: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(first | value);
    return;
  }
  out.push(first | mask);
  let v = value - mask;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function pushString(out: number[], s: string): void {
  pushInt(out, s.length, 7, 0);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/** A dynamic table size update (RFC 7541 §6.3), for the start of a header block. */
export function tableSizeUpdate(size: number): Buffer {
  const out: number[] = [];
  pushInt(out, size, 5, 0x20);
  return Buffer.from(out);
}

/** Encodes header fields without touching either side's dynamic table (see the module comment). */
export function encodeHeaders(fields: readonly HeaderField[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const exact = staticField.get(`${name}\0${value}`);
    if (exact !== undefined) {
      pushInt(out, exact, 7, 0x80);
      continue;
    }
    const nameIndex = staticName.get(name);
    if (nameIndex !== undefined) pushInt(out, nameIndex, 4, 0x00);
    else {
      out.push(0x00);
      pushString(out, name);
    }
    pushString(out, value);
  }
  return Buffer.from(out);
}
