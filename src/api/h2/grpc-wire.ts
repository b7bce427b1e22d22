import { status } from '@grpc/grpc-js';
import type { H2Stream, Headers, OutgoingHeaders } from './connection.js';

/**
 * gRPC over HTTP/2 at the byte level, shared by apid (which forwards calls without decoding them) and the gRPC server
 * on the same connections: the 5-byte message framing, statuses in trailers, timeouts.
 */

/** One gRPC message with its 5-byte prefix (not compressed). */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** One gRPC message made of `parts` one after the other, framed, in one copy. */
export function frameAll(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(5 + length);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  let pos = 5;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Follows the message framing of a byte stream: checks every message's announced size against a limit and, when
 * asked, hands over each complete message.
 */
export class FrameReader {
  private header: Buffer | undefined;
  private headerFill = 0;
  private remaining = 0;
  private parts: Buffer[] = [];
  private compressed = false;
  /** messages seen so far */
  count = 0;

  constructor(
    private readonly maxSize: number,
    private readonly onMessage?: (message: Buffer, compressed: boolean) => void,
  ) {}

  /** Reads a chunk; returns the announced size of a message over the limit (the stream must then be failed). */
  push(chunk: Buffer): number | undefined {
    let off = 0;
    while (off < chunk.length) {
      if (this.headerFill < 5) {
        if (this.headerFill === 0 && chunk.length - off >= 5) {
          // the whole prefix is in this chunk (the usual case): read it in place
          this.compressed = chunk[off] === 1;
          this.remaining = chunk.readUInt32BE(off + 1);
          off += 5;
          this.headerFill = 5;
        } else {
          this.header ??= Buffer.alloc(5);
          const n = Math.min(5 - this.headerFill, chunk.length - off);
          chunk.copy(this.header, this.headerFill, off, off + n);
          this.headerFill += n;
          off += n;
          if (this.headerFill < 5) break;
          this.compressed = this.header[0] === 1;
          this.remaining = this.header.readUInt32BE(1);
        }
        if (this.remaining > this.maxSize) return this.remaining;
        if (this.remaining === 0) {
          this.complete();
          continue;
        }
      }
      const n = Math.min(this.remaining, chunk.length - off);
      if (this.onMessage) this.parts.push(chunk.subarray(off, off + n));
      this.remaining -= n;
      off += n;
      if (this.remaining === 0) this.complete();
    }
    return undefined;
  }

  /** Whether the stream so far ends on a message boundary. */
  get atBoundary(): boolean {
    return this.headerFill === 0;
  }

  private complete(): void {
    this.count++;
    this.headerFill = 0;
    if (!this.onMessage) return;
    const message = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.onMessage(message, this.compressed);
  }
}

/** grpc-message is percent-encoded: everything outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

export function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface GrpcStatus {
  code: number;
  details: string;
}

/** The status a response's trailers (or trailers-only headers) carry; undefined when they carry none. */
export function statusOf(h: Headers | undefined): GrpcStatus | undefined {
  const raw = h?.['grpc-status'];
  if (raw === undefined) return undefined;
  const code = Number(Array.isArray(raw) ? raw[0] : raw);
  const msg = h!['grpc-message'];
  return { code: Number.isInteger(code) ? code : status.UNKNOWN, details: decodeGrpcMessage(String(Array.isArray(msg) ? msg[0] : (msg ?? ''))) };
}

/** Parses grpc-timeout (`100m`, `5S`, ...) into milliseconds. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const m = v ? /^(\d{1,8})([HMSmun])$/.exec(v) : null;
  if (!m) return undefined;
  const unit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[m[2] as 'H'];
  return Number(m[1]) * unit;
}

export function grpcTimeout(ms: number): string {
  return `${Math.max(1, Math.ceil(ms))}m`;
}

/** The response headers of a gRPC answer. */
export const RESPONSE_HEADERS: OutgoingHeaders = { ':status': 200, 'content-type': 'application/grpc' };

/**
 * Ends a server stream with a status: as a trailers-only response when nothing was sent yet, else as trailers after
 * the messages.
 */
export function finish(stream: H2Stream, st: GrpcStatus, trailers?: OutgoingHeaders, response: OutgoingHeaders = RESPONSE_HEADERS): void {
  if (stream.closed || stream.localEnded) return;
  // a backend's own trailers (no pseudo-headers in trailers) already say the status; otherwise it is written here
  let t: OutgoingHeaders;
  if (trailers && trailers['grpc-status'] !== undefined) t = trailers;
  else {
    t = { ...trailers, 'grpc-status': String(st.code) };
    if (st.details) t['grpc-message'] = encodeGrpcMessage(st.details);
  }
  if (!stream.headersSent) stream.respond({ ...response, ...t }, true);
  else stream.end(t);
}


/** Answers a call whose request headers are over the connection's limit: RESOURCE_EXHAUSTED, trailers-only. */
export function refuseLargeHeaders(stream: H2Stream, size: number, limit: number): void {
  finish(stream, { code: status.RESOURCE_EXHAUSTED, details: `request metadata of ${size} bytes is larger than the limit of ${limit} bytes` });
}
