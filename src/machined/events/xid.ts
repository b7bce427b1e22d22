import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { EventsError } from './errors.js';

/** rs/xid's alphabet: base32hex, lower case. */
const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Length of an xid in bytes and as a string. */
export const XID_BYTES = 12;
export const XID_LENGTH = 20;

/**
 * Encodes 12 xid bytes as rs/xid does: the 96 bits, big-endian, followed by four zero bits, in 20 base32hex
 * characters. The encoding keeps byte order, so string order is id order.
 */
export function encodeXid(id: Uint8Array): string {
  if (id.length !== XID_BYTES) throw new EventsError('BRONZE_EVENTS_INVALID_ID', `xid: expected ${XID_BYTES} bytes, got ${id.length}`);
  let bits = 0n;
  for (const b of id) bits = (bits << 8n) | BigInt(b);
  bits <<= 4n;
  let out = '';
  for (let i = XID_LENGTH - 1; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

/**
 * Parses an xid string into its 12 bytes; rejects wrong lengths, characters outside the alphabet and a last
 * character whose padding bits are not zero (as rs/xid's FromString does, with its message).
 */
export function parseXid(s: string): Uint8Array {
  if (s.length !== XID_LENGTH) throw new EventsError('BRONZE_EVENTS_INVALID_ID', 'xid: invalid ID');
  let bits = 0n;
  for (const c of s) {
    const v = DECODE.get(c);
    if (v === undefined) throw new EventsError('BRONZE_EVENTS_INVALID_ID', 'xid: invalid ID');
    bits = (bits << 5n) | BigInt(v);
  }
  if ((bits & 15n) !== 0n) throw new EventsError('BRONZE_EVENTS_INVALID_ID', 'xid: invalid ID');
  bits >>= 4n;
  const out = new Uint8Array(XID_BYTES);
  for (let i = XID_BYTES - 1; i >= 0; i--) {
    out[i] = Number(bits & 255n);
    bits >>= 8n;
  }
  return out;
}

/** The unix time (seconds) an xid was made at. */
export function xidSeconds(id: Uint8Array | string): number {
  const b = typeof id === 'string' ? parseXid(id) : id;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** Byte order of two xids (-1, 0, 1); equal to their string order. */
export function compareXid(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < XID_BYTES; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

function defaultMachineId(): Uint8Array {
  let source = '';
  for (const p of ['/etc/machine-id', '/sys/class/dmi/id/product_uuid']) {
    try {
      source = readFileSync(p, 'utf8').trim();
      if (source) break;
    } catch {
      // try the next source
    }
  }
  if (!source) source = hostname();
  if (!source) return randomBytes(3);
  return createHash('md5').update(source).digest().subarray(0, 3);
}

export interface XidGeneratorOptions {
  /** three bytes identifying the machine (default: md5 of /etc/machine-id, else the hostname) */
  machineId?: Uint8Array;
  pid?: number;
  /** start of the 24-bit counter (default random) */
  counter?: number;
  /** clock in milliseconds (default Date.now) */
  now?: () => number;
}

/**
 * Makes rs/xid-compatible ids: 4 bytes of unix seconds (big-endian), 3 bytes of machine id, 2 bytes of pid and a
 * 3-byte counter. Ids from one generator are strictly increasing while the clock does not go back and fewer than
 * 2^24 ids are made per second.
 */
export class XidGenerator {
  private readonly machine: Uint8Array;
  private readonly pid: number;
  private counter: number;
  private readonly now: () => number;

  constructor(opts: XidGeneratorOptions = {}) {
    this.machine = opts.machineId ?? defaultMachineId();
    this.pid = (opts.pid ?? process.pid) & 0xffff;
    this.counter = (opts.counter ?? randomBytes(3).readUIntBE(0, 3)) & 0xffffff;
    this.now = opts.now ?? Date.now;
  }

  /** The next id's bytes. */
  nextBytes(): Uint8Array {
    const id = new Uint8Array(XID_BYTES);
    const secs = Math.floor(this.now() / 1000) >>> 0;
    id[0] = secs >>> 24;
    id[1] = (secs >>> 16) & 255;
    id[2] = (secs >>> 8) & 255;
    id[3] = secs & 255;
    id.set(this.machine.subarray(0, 3), 4);
    id[7] = this.pid >>> 8;
    id[8] = this.pid & 255;
    const c = this.counter;
    this.counter = (this.counter + 1) & 0xffffff;
    id[9] = c >>> 16;
    id[10] = (c >>> 8) & 255;
    id[11] = c & 255;
    return id;
  }

  next(): string {
    return encodeXid(this.nextBytes());
  }
}
