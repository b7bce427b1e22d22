import { TAG } from './der.js';
import { PKIError, type PKIErrorCode } from './errors.js';

/**
 * A reader of the DER that certificates and certificate requests are made of: just enough to walk their structure
 * and read the fields Bronze looks at. Every failure (a truncated input, an unexpected tag, a length past the end) is a
 * PKIError with the reader's code and the byte offset; the walk only ever moves forward, so no input makes it loop.
 */

/** One element read: its tag, where it starts, where its contents start and where it ends. */
export interface Element {
  tag: number;
  start: number;
  contents: number;
  end: number;
}

const TAG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TAG).map(([name, tag]) => [tag, name]));

const utf8 = new TextDecoder('utf-8', { fatal: true });

const tagName = (tag: number) => TAG_NAMES[tag] ?? ((tag & 0xc0) === 0x80 ? `[${tag & 0x1f}]` : `tag 0x${tag.toString(16).padStart(2, '0')}`);

/** A certificate extension: whether it is critical, and its value (the contents of the OCTET STRING). */
export interface Extension {
  critical: boolean;
  value: Element;
}

export class DERReader {
  readonly der: Buffer;

  constructor(
    der: Uint8Array,
    readonly code: PKIErrorCode = 'BRONZE_PKI_CERTIFICATE',
  ) {
    this.der = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  }

  fail(message: string): never {
    throw new PKIError(this.code, message);
  }

  /** The element at `offset` (single-byte tags, definite lengths of up to four bytes). */
  element(offset: number): Element {
    const der = this.der;
    if (offset + 2 > der.length) this.fail(`truncated DER at byte ${offset}`);
    const tag = der[offset]!;
    if ((tag & 0x1f) === 0x1f) this.fail(`unsupported multi-byte tag at byte ${offset}`);
    let len = der[offset + 1]!;
    let contents = offset + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) this.fail(`indefinite length at byte ${offset} (not DER)`);
      if (n > 4) this.fail(`length of ${n} bytes at byte ${offset}`);
      if (contents + n > der.length) this.fail(`truncated DER at byte ${offset}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[contents + i]!;
      contents += n;
    }
    const end = contents + len;
    if (end > der.length) this.fail(`truncated DER at byte ${offset}: ${len} bytes of contents, ${der.length - contents} left`);
    return { tag, start: offset, contents, end };
  }

  /** The one element the whole input is; bytes after it are an error. */
  root(tag: number, what: string): Element {
    const e = this.expect(this.element(0), tag, what);
    if (e.end !== this.der.length) this.fail(`${this.der.length - e.end} bytes after the ${what}`);
    return e;
  }

  /** The children of a constructed element. */
  children(e: Element): Element[] {
    if ((e.tag & 0x20) === 0) this.fail(`${tagName(e.tag)} at byte ${e.start} is not constructed`);
    const out: Element[] = [];
    for (let off = e.contents; off < e.end; ) {
      const c = this.element(off);
      if (c.end > e.end) this.fail(`element at byte ${off} runs past its parent's end`);
      out.push(c);
      off = c.end;
    }
    return out;
  }

  /** `e`, which must be there and carry `tag`. */
  expect(e: Element | undefined, tag: number, what: string): Element {
    if (!e) this.fail(`${what} is missing`);
    if (e.tag !== tag) this.fail(`${what}: expected ${tagName(tag)} at byte ${e.start}, found ${tagName(e.tag)}`);
    return e;
  }

  /** The children of `e`, which must carry `tag`. */
  items(e: Element | undefined, tag: number, what: string): Element[] {
    return this.children(this.expect(e, tag, what));
  }

  /** The contents of an element (a view, not a copy). */
  contents(e: Element): Buffer {
    return this.der.subarray(e.contents, e.end);
  }

  /** The whole element, tag and length included (a view). */
  raw(e: Element): Buffer {
    return this.der.subarray(e.start, e.end);
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  oid(e: Element | undefined, what: string): string {
    const b = this.contents(this.expect(e, TAG.oid, what));
    if (b.length === 0) this.fail(`${what}: an empty object identifier`);
    const arcs: number[] = [];
    let v = 0;
    for (let i = 0; i < b.length; i++) {
      const byte = b[i]!;
      if (v === 0 && byte === 0x80) this.fail(`${what}: an object identifier arc with a leading zero`);
      v = v * 128 + (byte & 0x7f);
      if (v > Number.MAX_SAFE_INTEGER) this.fail(`${what}: an object identifier arc too large`);
      if (byte & 0x80) continue;
      if (arcs.length === 0) arcs.push(v < 40 ? 0 : v < 80 ? 1 : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
    if (b[b.length - 1]! & 0x80) this.fail(`${what}: a truncated object identifier`);
    return arcs.join('.');
  }

  /** A BOOLEAN (DER: 0x00 or 0xff). */
  boolean(e: Element, what: string): boolean {
    const b = this.contents(this.expect(e, TAG.boolean, what));
    if (b.length !== 1 || (b[0] !== 0 && b[0] !== 0xff)) this.fail(`${what}: a malformed BOOLEAN at byte ${e.start}`);
    return b[0] === 0xff;
  }

  /** A small non-negative INTEGER (a version). */
  smallInteger(e: Element | undefined, what: string): number {
    const b = this.contents(this.expect(e, TAG.integer, what));
    if (b.length === 0 || b.length > 4 || b[0]! & 0x80) this.fail(`${what}: not a small non-negative INTEGER`);
    return b.reduce((n, x) => n * 256 + x, 0);
  }

  /** A BIT STRING: its bytes and how many bits of the last byte are unused. */
  bitString(e: Element | undefined, what: string): { bytes: Buffer; unusedBits: number } {
    const b = this.contents(this.expect(e, TAG.bitString, what));
    if (b.length === 0 || b[0]! > 7 || (b.length === 1 && b[0] !== 0)) this.fail(`${what}: a malformed BIT STRING`);
    return { bytes: b.subarray(1), unusedBits: b[0]! };
  }

  /** The text of a string element: UTF8String, PrintableString, IA5String, TeletexString (as Latin-1), BMPString, UniversalString. */
  text(e: Element, what: string): string {
    const b = this.contents(e);
    switch (e.tag) {
      case TAG.utf8String:
        try {
          return utf8.decode(b);
        } catch {
          return this.fail(`${what}: a UTF8String that is not UTF-8`);
        }
      case TAG.printableString:
      case TAG.ia5String:
        if (b.some((c) => c > 0x7f)) this.fail(`${what}: a non-ASCII byte in an ASCII string`);
        return b.toString('latin1');
      case TAG.teletexString:
        return b.toString('latin1');
      case TAG.bmpString: {
        if (b.length % 2) this.fail(`${what}: a BMPString of odd length`);
        return Buffer.from(b).swap16().toString('utf16le');
      }
      case TAG.universalString: {
        if (b.length % 4) this.fail(`${what}: a UniversalString whose length is not a multiple of 4`);
        let s = '';
        for (let i = 0; i < b.length; i += 4) {
          const c = b.readUInt32BE(i);
          if (c > 0x10ffff) this.fail(`${what}: a UniversalString character past U+10FFFF`);
          s += String.fromCodePoint(c);
        }
        return s;
      }
      default:
        return this.fail(`${what}: expected a string at byte ${e.start}, found ${tagName(e.tag)}`);
    }
  }

  /** The attributes of a Name, in order: [type OID, value element] for each AttributeTypeAndValue of each RDN. */
  nameAttributes(name: Element | undefined, what: string): [string, Element][] {
    const out: [string, Element][] = [];
    for (const rdn of this.items(name, TAG.sequence, what)) {
      for (const atv of this.items(rdn, TAG.set, `${what}: a relative name`)) {
        const [type, value, ...rest] = this.items(atv, TAG.sequence, `${what}: an attribute`);
        if (!value || rest.length) this.fail(`${what}: an attribute at byte ${atv.start} is not a type and a value`);
        out.push([this.oid(type, `${what}: an attribute type`), value]);
      }
    }
    return out;
  }

  /** Extensions (`SEQUENCE OF Extension`) by object identifier; an extension that appears twice is an error. */
  extensions(e: Element | undefined, what: string): Map<string, Extension> {
    const out = new Map<string, Extension>();
    for (const ext of this.items(e, TAG.sequence, what)) {
      const fields = this.items(ext, TAG.sequence, `${what}: an extension`);
      const id = this.oid(fields[0], `${what}: an extension's identifier`);
      const hasCritical = fields[1]?.tag === TAG.boolean;
      const critical = hasCritical ? this.boolean(fields[1]!, `${what}: ${id}'s criticality`) : false;
      const value = this.expect(fields[hasCritical ? 2 : 1], TAG.octetString, `${what}: ${id}'s value`);
      if (fields.length !== (hasCritical ? 3 : 2)) this.fail(`${what}: extension ${id} has ${fields.length} fields`);
      if (out.has(id)) this.fail(`${what}: extension ${id} appears twice`);
      out.set(id, { critical, value });
    }
    return out;
  }

  /** The single element an extension's value holds (its OCTET STRING wraps exactly one DER element). */
  extensionValue(ext: Extension, what: string): Element {
    const inner = this.element(ext.value.contents);
    if (inner.end !== ext.value.end) this.fail(`${what}: bytes after the extension's value`);
    return inner;
  }
}

/** The fields of a certificate's tbsCertificate, the optional version taken into account. */
function tbsFields(r: DERReader): { fields: Element[]; at: (i: number) => Element | undefined } {
  const [tbs] = r.items(r.element(0), TAG.sequence, 'certificate');
  const fields = r.items(tbs, TAG.sequence, 'tbsCertificate');
  // version [0] is optional; then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
  return { fields, at: (i) => fields[skip + i] };
}

/** The subject Name of a certificate, as its DER bytes (what a certificate it issues names as issuer). */
export function certificateSubject(cert: Uint8Array): Buffer {
  const r = new DERReader(cert);
  return Buffer.from(r.raw(r.expect(tbsFields(r).at(4), TAG.sequence, 'certificate subject')));
}

/** A certificate's subject key identifier (extension 2.5.29.14), or undefined when it has none. */
export function certificateSubjectKeyId(cert: Uint8Array): Buffer | undefined {
  const r = new DERReader(cert);
  const extensions = tbsFields(r).fields.find((f) => f.tag === 0xa3);
  if (!extensions) return undefined;
  const [list, ...rest] = r.children(extensions);
  if (rest.length) r.fail('certificate extensions: more than one element in [3]');
  const ski = r.extensions(list, 'certificate extensions').get('2.5.29.14');
  if (!ski) return undefined;
  return Buffer.from(r.contents(r.expect(r.extensionValue(ski, 'subject key identifier'), TAG.octetString, 'subject key identifier')));
}
