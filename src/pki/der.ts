import { isIP } from 'node:net';
import { PKIError } from './errors.js';

/**
 * The few DER encodings an X.509 certificate or a certificate request needs (der-reader.ts reads them). Issuing goes
 * through these rather than a general ASN.1 library: under emulation the general one made a certificate cost a large
 * part of a node's boot.
 */

/** A DER element: tag, length, contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? contents[0]! : Buffer.concat(contents);
  const n = body.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([tag, n]);
  else if (n < 0x100) head = Buffer.from([tag, 0x81, n]);
  else if (n < 0x10000) head = Buffer.from([tag, 0x82, n >> 8, n & 0xff]);
  else if (n < 0x1000000) head = Buffer.from([tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  else head = Buffer.from([tag, 0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, body]);
}

/** Universal tags (der-reader.ts reads the string types too). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

export const seq = (...items: Uint8Array[]) => tlv(TAG.sequence, ...items);
export const set = (...items: Uint8Array[]) => tlv(TAG.set, ...items);
/** A context-specific constructed element ([n] EXPLICIT). */
export const explicit = (n: number, ...items: Uint8Array[]) => tlv(0xa0 | n, ...items);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new PKIError('BRONZE_PKI_OPTION', `"${dotted}" is not an object identifier`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new PKIError('BRONZE_PKI_OPTION', `"${dotted}" is not an object identifier`);
  const out: number[] = [];
  const base128 = (v: bigint) => {
    const bytes = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) bytes.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  base128(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return tlv(TAG.oid, Buffer.from(out));
}

/** A non-negative INTEGER from its big-endian bytes (a zero byte is put in front when the top bit is set). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
  const b = Buffer.from(bytes.subarray(i));
  return tlv(TAG.integer, b.length === 0 ? Buffer.from([0]) : b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export const octetString = (b: Uint8Array) => tlv(TAG.octetString, b);
export const bitString = (b: Uint8Array, unusedBits = 0) => tlv(TAG.bitString, Buffer.from([unusedBits]), b);
export const boolean = (v: boolean) => tlv(TAG.boolean, Buffer.from([v ? 0xff : 0]));
export const nullValue = () => Buffer.from([TAG.null, 0]);

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string: PrintableString when the text allows it, UTF8String otherwise. */
export const directoryString = (text: string) => tlv(PRINTABLE.test(text) ? TAG.printableString : TAG.utf8String, Buffer.from(text, 'utf8'));

/** UTCTime for the years 1950–2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5), to the second. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.utcTime, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(TAG.generalizedTime, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'ascii'));
}

/** A BIT STRING of named bits (bit 0 is the most significant of the first byte), without trailing zero bits (DER). */
export function namedBits(bits: number[]): Buffer {
  const set = new Set(bits);
  const last = set.size ? Math.max(...set) : -1;
  const bytes = Buffer.alloc(last < 0 ? 0 : (last >> 3) + 1);
  for (const b of set) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return bitString(bytes, last < 0 ? 0 : 7 - (last & 7));
}

/** SubjectAltName's GeneralNames: dNSName entries, then iPAddress entries; undefined when there are none. */
export function subjectAltNames(dnsNames: string[] = [], ipAddresses: string[] = []): Buffer | undefined {
  const names = [...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...ipAddresses.map((ip) => tlv(0x87, ipBytes(ip)))];
  return names.length ? tlv(TAG.sequence, ...names) : undefined;
}

/** The 4 or 16 bytes of an IP address. */
export function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v !== 6) throw new PKIError('BRONZE_PKI_OPTION', `"${ip}" is not an IP address`);
  let text = ip;
  // an IPv4 tail (::ffff:1.2.3.4) as two groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The text form of a 4- or 16-byte address: dotted IPv4, or IPv6 with its longest run of zero groups compressed. */
export function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16));
  // the longest run of two or more zero groups, the first of equals, becomes `::` (RFC 5952)
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}
