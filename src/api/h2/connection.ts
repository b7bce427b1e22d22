import type { Socket } from 'node:net';
import { HeaderListTooLarge, type HeaderField, HpackDecoder, HpackEncoder, HpackError } from './hpack.js';

/**
 * HTTP/2 (RFC 9113) framing for apid, one side of one connection: enough of the protocol for a gRPC gateway, without
 * a stream object per call heavier than the call itself. Streams are plain objects with callbacks; frames from the
 * socket are parsed in place and handed on as they are (DATA payloads are never copied); everything a connection
 * writes during one turn of the event loop leaves in one socket write. Flow control is kept both ways: what a peer
 * may send is acknowledged as the receiving side consumes it (a paused stream holds its acknowledgements back), and
 * what is sent waits for the peer's windows.
 */

const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** not a wire flag: marks a HEADERS frame whose priority names its own stream (a stream error) */
const FLAG_SELF_DEPENDENT = 0x100;

/** HTTP/2 error codes (RFC 9113 §7). */
export const H2_ERROR = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
} as const;

const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DEFAULT_WINDOW = 65_535;
const DEFAULT_FRAME_SIZE = 16_384;
const MAX_WINDOW = 2 ** 31 - 1;
/** how long a connection this side ended waits for the peer to close its side */
const LINGER_MS = 1000;
/** bytes a stream may have queued for sending before `write` asks its caller to wait for `onDrain` */
const HIGH_WATER_MARK = 64 * 1024;

/** Request or response headers as received: lower-case names; a repeated name gives an array. */
export type Headers = Record<string, string | string[] | undefined>;
/** Headers to send: pseudo-headers (`:status`, `:path`, ...) are put first. */
export type OutgoingHeaders = Record<string, string | number | readonly string[] | undefined>;

/** An error of the connection or of one stream; `code` is stable, `h2Code` the HTTP/2 error code when there is one. */
export class H2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly h2Code: number = H2_ERROR.INTERNAL_ERROR,
  ) {
    super(message);
    this.name = 'H2Error';
  }
}

export interface H2ConnectionOptions {
  role: 'client' | 'server';
  /** the window this side gives every stream (SETTINGS_INITIAL_WINDOW_SIZE) */
  streamWindow?: number;
  /** the window this side gives the whole connection */
  connectionWindow?: number;
  /** how many streams the peer may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS) */
  maxConcurrentStreams?: number;
  /** the largest decoded header list accepted, in bytes (names + values + 32 per field) */
  maxHeaderListSize?: number;
  /** client: `:scheme` and `:authority` of requests that do not carry their own */
  scheme?: 'http' | 'https';
  authority?: string;
  /** server: a new stream with its request headers; the handler sets the stream's callbacks before it returns */
  onStream?: (stream: H2Stream, headers: Headers) => void;
  /**
   * server: a new stream whose request headers are over `maxHeaderListSize` (`size` bytes as counted there): the
   * handler answers it (by default HTTP 431). The rest of the connection is not affected.
   */
  onHeadersTooLarge?: (stream: H2Stream, size: number, limit: number) => void;
}

function putHeader(b: Buffer, length: number, type: number, flags: number, streamId: number): void {
  b[0] = (length >>> 16) & 0xff;
  b[1] = (length >>> 8) & 0xff;
  b[2] = length & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId, 5);
}

/** A frame header alone (its payload is written after it without a copy). */
function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  putHeader(h, length, type, flags, streamId);
  return h;
}

/** A whole small frame in one buffer. */
function smallFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(9 + (payload?.length ?? 0));
  putHeader(b, payload?.length ?? 0, type, flags, streamId);
  if (payload) b.set(payload, 9);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/** Header fields to send, pseudo-headers first. */
function toFields(h: OutgoingHeaders): HeaderField[] {
  const pseudo: HeaderField[] = [];
  const rest: HeaderField[] = [];
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    const into = name.charCodeAt(0) === 58 /* : */ ? pseudo : rest;
    if (typeof v === 'string') into.push([name, v]);
    else if (typeof v === 'number') into.push([name, String(v)]);
    else for (const x of v) into.push([name, x]);
  }
  return pseudo.length === 0 ? rest : pseudo.concat(rest);
}

function toHeaders(fields: HeaderField[]): Headers {
  const h: Headers = Object.create(null) as Headers;
  for (const [name, value] of fields) {
    const prev = h[name];
    if (prev === undefined) h[name] = value;
    else if (typeof prev === 'string') h[name] = [prev, value];
    else prev.push(value);
  }
  return h;
}

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
/** Whether a field name has a character RFC 9113 §8.2.1 forbids: a control, space, upper case, DEL or above. */
function badFieldName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f) return true;
  }
  return false;
}

/** A request pseudo-header's bit, 0 for any other name. */
function requestPseudoBit(name: string): number {
  switch (name) {
    case ':method':
      return 1;
    case ':scheme':
      return 2;
    case ':path':
      return 4;
    case ':authority':
      return 8;
    default:
      return 0;
  }
}

/**
 * Why a request's header list is malformed (RFC 9113 §8.2-8.3), or undefined when it is not: names of lower-case
 * ASCII without spaces or controls, the request pseudo-headers once each and before the other fields, none of
 * HTTP/1's connection fields, `te` only as `trailers`.
 */
function malformedRequest(fields: HeaderField[]): string | undefined {
  let seen = 0;
  let regular = false;
  for (const [name, value] of fields) {
    if (badFieldName(name)) return `header name ${JSON.stringify(name)} has a character a field name may not have (upper case, space, control, non-ASCII)`;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) return `${name} after a regular field`;
      const bit = requestPseudoBit(name);
      if (bit === 0) return `pseudo-header ${name} in a request`;
      if (seen & bit) return `${name} twice`;
      seen |= bit;
      if (bit === 4 && value === '') return 'an empty :path';
    } else {
      regular = true;
      if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
      if (name === 'te' && value !== 'trailers') return `te: ${value}`;
    }
  }
  if ((seen & 7) !== 7) return `no ${!(seen & 1) ? ':method' : !(seen & 2) ? ':scheme' : ':path'}`;
  return undefined;
}

/** One stream of a connection. Its callbacks are set by whoever owns the call. */
export class H2Stream {
  /** client: the response headers (`endStream`: a trailers-only answer) */
  onResponse?: (headers: Headers, endStream: boolean) => void;
  /** the trailers that end the peer's side */
  onTrailers?: (headers: Headers) => void;
  /** a DATA payload (a view of the received bytes) */
  onData?: (chunk: Buffer) => void;
  /** the peer ended its side */
  onEnd?: () => void;
  /** `write` may be called again after it returned false */
  onDrain?: () => void;
  /** the stream is over: `code` 0 when both sides ended it, else the reset code; `reason` for a reset or failure */
  onClose?: (code: number, reason: string) => void;

  headersSent = false;
  /** this side sent END_STREAM */
  localEnded = false;
  /** the peer sent END_STREAM */
  remoteEnded = false;
  closed = false;
  /** client: response headers were received */
  responded = false;

  /** @internal */ sendWindow: number;
  /** @internal */ queue: Buffer[] = [];
  /** @internal */ queued = 0;
  /** @internal */ endPending = false;
  /** @internal */ trailers: HeaderField[] | undefined;
  /** @internal */ needDrain = false;
  /** @internal */ unacked = 0;
  /** @internal */ paused = false;
  /** @internal a request's content-length, which its DATA must add up to */
  contentLength: number | undefined;
  /** @internal DATA bytes received, counted when there is a content-length */
  received = 0;

  /** @internal a client stream waiting for the peer to allow one more: its request headers */
  opening: { fields: HeaderField[]; endStream: boolean } | undefined;

  constructor(
    /** the stream identifier; 0 while a client stream waits to be opened */
    public id: number,
    readonly connection: H2Connection,
    sendWindow: number,
  ) {
    this.sendWindow = sendWindow;
  }

  /** Server: sends the response headers; `endStream` makes it a trailers-only answer. */
  respond(headers: OutgoingHeaders, endStream = false): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    this.connection.sendHeaders(this, toFields(headers), endStream);
  }

  /** Queues data; returns false when enough is queued that the caller should wait for `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.closed || this.localEnded || this.endPending) return false;
    if (chunk.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.connection.flushStream(this);
    }
    if (this.queued >= HIGH_WATER_MARK) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Ends this side after the queued data, with trailers when given (a server's gRPC status). */
  end(trailers?: OutgoingHeaders): void {
    if (this.closed || this.localEnded || this.endPending) return;
    this.endPending = true;
    if (trailers) this.trailers = toFields(trailers);
    this.connection.flushStream(this);
  }

  /** Resets the stream (RST_STREAM); nothing is sent for a stream that is already over. */
  reset(code: number = H2_ERROR.CANCEL): void {
    this.connection.resetStream(this, code);
  }

  /** Holds back the acknowledgement of received data: the peer stops once the stream window is used up. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.ackStream(this, true);
  }
}

/** One HTTP/2 connection over a socket (TLS or plain), client or server side. */
export class H2Connection {
  readonly role: 'client' | 'server';
  private readonly streams = new Map<number, H2Stream>();
  private readonly blocked = new Set<H2Stream>();
  /** client streams asked for beyond the peer's limit of concurrent streams, in order */
  private readonly waiting: H2Stream[] = [];
  private peerMaxStreams = Infinity;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private readonly streamWindow: number;
  private readonly connectionWindow: number;
  private readonly maxStreams: number;
  private readonly maxHeaderList: number;
  private readonly onStream: ((stream: H2Stream, headers: Headers) => void) | undefined;
  private readonly onHeadersTooLarge: (stream: H2Stream, size: number, limit: number) => void;
  private readonly requestPseudo: HeaderField[];

  private pending: Buffer | undefined;
  private prefaceSeen: boolean;
  private continuation: { id: number; flags: number; parts: Buffer[]; size: number } | undefined;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushQueued = false;
  private sendWindow = DEFAULT_WINDOW;
  private peerStreamWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_FRAME_SIZE;
  private connUnacked = 0;
  private nextStreamId = 1;
  private lastPeerStream = 0;
  /** streams this side reset lately: what the peer still sends on them is dropped, not an error (RFC 9113 §5.1) */
  private readonly resetByUs = new Set<number>();
  private goawaySent = false;
  /** the peer sent GOAWAY: no new streams on this connection */
  goaway = false;
  destroyed = false;
  private closeReason = 'the connection closed';
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    readonly socket: Socket,
    o: H2ConnectionOptions,
  ) {
    this.role = o.role;
    this.streamWindow = o.streamWindow ?? 4 << 20;
    this.connectionWindow = o.connectionWindow ?? 16 << 20;
    this.maxStreams = o.maxConcurrentStreams ?? 1000;
    this.maxHeaderList = o.maxHeaderListSize ?? 1 << 20;
    this.decoder = new HpackDecoder();
    this.onStream = o.onStream;
    this.onHeadersTooLarge = o.onHeadersTooLarge ?? ((stream) => stream.respond({ ':status': 431 }, true));
    this.requestPseudo = [
      [':scheme', o.scheme ?? 'http'],
      [':authority', o.authority ?? 'localhost'],
    ];
    this.prefaceSeen = o.role === 'client';
    if (o.role === 'client') this.emit(PREFACE);
    const settings = Buffer.allocUnsafe(18);
    settings.writeUInt16BE(SETTING.MAX_CONCURRENT_STREAMS, 0);
    settings.writeUInt32BE(this.maxStreams, 2);
    settings.writeUInt16BE(SETTING.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(this.streamWindow, 8);
    settings.writeUInt16BE(o.role === 'client' ? SETTING.ENABLE_PUSH : SETTING.MAX_HEADER_LIST_SIZE, 12);
    settings.writeUInt32BE(o.role === 'client' ? 0 : this.maxHeaderList, 14);
    this.emit(smallFrame(FRAME.SETTINGS, 0, 0, settings));
    if (this.connectionWindow > DEFAULT_WINDOW) this.emit(smallFrame(FRAME.WINDOW_UPDATE, 0, 0, u32(this.connectionWindow - DEFAULT_WINDOW)));
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e: Error) => (this.closeReason = e.message));
    socket.on('close', () => this.destroy(this.closeReason));
    socket.on('end', () => {
      // the peer will send nothing more: calls still waiting for it cannot finish
      this.destroy('the connection was closed by the peer');
    });
  }

  /** Whether new streams may be opened (not closing, not told to go away, not gone). */
  get accepting(): boolean {
    return !this.destroyed && !this.goaway && !this.goawaySent;
  }

  /** Called once when the connection is gone (socket closed or destroyed). */
  onClose(fn: () => void): void {
    if (this.destroyed) fn();
    else this.closeHandlers.push(fn);
  }

  /** Client: opens a stream with its request headers. Throws when the connection takes no new streams. */
  request(headers: OutgoingHeaders, endStream = false): H2Stream {
    if (this.role !== 'client') throw new H2Error('ERR_H2_ROLE', 'only a client opens streams');
    if (this.destroyed || this.goaway || this.goawaySent) throw new H2Error('ERR_H2_CLOSED', `the connection takes no new calls (${this.destroyed ? this.closeReason : 'going away'})`);
    if (this.nextStreamId > MAX_WINDOW) throw new H2Error('ERR_H2_CLOSED', 'stream identifiers are used up');
    const s = new H2Stream(0, this, this.peerStreamWindow);
    s.headersSent = true;
    const fields = toFields(headers);
    for (const p of this.requestPseudo) if (headers[p[0]] === undefined) fields.unshift(p);
    if (this.waiting.length === 0 && this.streams.size < this.peerMaxStreams) this.open(s, fields, endStream);
    else {
      // the peer takes no more streams at once: this one is opened when another ends
      s.opening = { fields, endStream };
      this.waiting.push(s);
    }
    return s;
  }

  private open(s: H2Stream, fields: HeaderField[], endStream: boolean): void {
    if (this.nextStreamId > MAX_WINDOW) return this.finish(s, H2_ERROR.REFUSED_STREAM, 'stream identifiers are used up');
    s.id = this.nextStreamId;
    this.nextStreamId += 2;
    s.sendWindow = this.peerStreamWindow;
    this.streams.set(s.id, s);
    this.sendHeaders(s, fields, endStream);
    // what was written while it waited
    if (!endStream) this.flushStream(s);
  }

  private openWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams && this.accepting) {
      const s = this.waiting.shift()!;
      const o = s.opening!;
      s.opening = undefined;
      this.open(s, o.fields, o.endStream);
    }
  }

  /**
   * Takes no new streams (GOAWAY) and ends the connection once the open ones are over. A client's connection is
   * closed the same way: streams already open run to their end.
   */
  close(): void {
    if (this.destroyed) return;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.emit(this.goawayFrame(H2_ERROR.NO_ERROR));
    }
    if (this.streams.size === 0) this.endSocket();
  }

  /** Ends every stream and the socket at once. */
  destroy(reason = 'the connection was destroyed'): void {
    if (this.destroyed) return;
    this.teardown(H2_ERROR.CANCEL, reason);
    this.socket.destroy();
  }

  /** Marks the connection gone: nothing more is sent, every stream ends with `code`, the close handlers run. */
  private teardown(code: number, reason: string): void {
    this.destroyed = true;
    this.closeReason = reason;
    this.out = [];
    this.outBytes = 0;
    for (const s of [...this.streams.values(), ...this.waiting]) this.finish(s, code, reason);
    for (const fn of this.closeHandlers.splice(0)) fn();
  }

  /** GOAWAY naming the last stream the peer opened, with an error code and optional debug text. */
  private goawayFrame(code: number, debug = ''): Buffer {
    const p = Buffer.allocUnsafe(8 + Buffer.byteLength(debug));
    p.writeUInt32BE(this.lastPeerStream, 0);
    p.writeUInt32BE(code, 4);
    p.write(debug, 8);
    return smallFrame(FRAME.GOAWAY, 0, 0, p);
  }

  // --- sending -------------------------------------------------------------------------------------------------

  private emit(frame: Buffer): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    const out = this.out;
    if (out.length === 0 || this.destroyed) return;
    this.out = [];
    const n = this.outBytes;
    this.outBytes = 0;
    if (out.length === 1) this.socket.write(out[0]!);
    else if (n <= 64 * 1024) this.socket.write(Buffer.concat(out, n));
    else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
  }

  /** @internal */
  sendHeaders(s: H2Stream, fields: HeaderField[], endStream: boolean): void {
    // the block is encoded behind room for its frame header
    const framed = this.encoder.encode(fields, 9);
    const end = endStream ? FLAG_END_STREAM : 0;
    if (framed.length - 9 <= this.peerMaxFrame) {
      putHeader(framed, framed.length - 9, FRAME.HEADERS, end | FLAG_END_HEADERS, s.id);
      this.emit(framed);
    } else {
      // HEADERS and its CONTINUATION frames go out back to back
      const block = framed.subarray(9);
      for (let off = 0; off < block.length; off += this.peerMaxFrame) {
        const part = block.subarray(off, off + this.peerMaxFrame);
        const last = off + this.peerMaxFrame >= block.length ? FLAG_END_HEADERS : 0;
        this.emit(off === 0 ? smallFrame(FRAME.HEADERS, end | last, s.id, part) : smallFrame(FRAME.CONTINUATION, last, s.id, part));
      }
    }
    if (endStream) {
      s.localEnded = true;
      s.queue = [];
      s.queued = 0;
      this.maybeClosed(s);
    }
  }

  /** @internal Sends what the windows allow of a stream's queue, then its end. */
  flushStream(s: H2Stream): void {
    if (s.closed || this.destroyed || s.id === 0) return;
    while (s.queue.length > 0) {
      const room = Math.min(s.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (room <= 0) {
        this.blocked.add(s);
        return;
      }
      let chunk = s.queue[0]!;
      if (chunk.length <= room) s.queue.shift();
      else {
        s.queue[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      }
      s.queued -= chunk.length;
      s.sendWindow -= chunk.length;
      this.sendWindow -= chunk.length;
      const last = s.queue.length === 0 && s.endPending && s.trailers === undefined;
      if (chunk.length <= 1024) this.emit(smallFrame(FRAME.DATA, last ? FLAG_END_STREAM : 0, s.id, chunk));
      else {
        this.emit(frameHeader(chunk.length, FRAME.DATA, last ? FLAG_END_STREAM : 0, s.id));
        this.emit(chunk);
      }
      if (last) s.localEnded = true;
    }
    this.blocked.delete(s);
    if (s.endPending && !s.localEnded) {
      if (s.trailers) this.sendHeaders(s, s.trailers, true);
      else {
        this.emit(smallFrame(FRAME.DATA, FLAG_END_STREAM, s.id));
        s.localEnded = true;
      }
    }
    if (s.needDrain && s.queued < HIGH_WATER_MARK) {
      s.needDrain = false;
      const drain = s.onDrain;
      if (drain) process.nextTick(drain);
    }
    this.maybeClosed(s);
  }

  /** @internal */
  resetStream(s: H2Stream, code: number): void {
    if (s.closed) return;
    // a stream still waiting to be opened was never seen by the peer
    if (s.id !== 0) this.sendReset(s.id, code);
    this.finish(s, code, 'stream reset');
  }

  /** Sends RST_STREAM and remembers that this side reset the stream. */
  private sendReset(id: number, code: number): void {
    if (this.destroyed) return;
    this.emit(smallFrame(FRAME.RST_STREAM, 0, id, u32(code)));
    this.resetByUs.add(id);
    if (this.resetByUs.size > 1024) this.resetByUs.delete(this.resetByUs.values().next().value!);
  }

  /** Whether a stream identifier the peer names was never opened (and so cannot have frames other than HEADERS). */
  private idle(id: number): boolean {
    const peerInitiated = (id % 2 === 1) === (this.role === 'server');
    return peerInitiated ? id > this.lastPeerStream : id >= this.nextStreamId;
  }

  /**
   * A DATA or HEADERS frame for a stream that is over: dropped when this side reset it (frames were on their way),
   * else a stream error STREAM_CLOSED.
   */
  private onClosedStream(id: number): void {
    if (!this.resetByUs.has(id)) this.sendReset(id, H2_ERROR.STREAM_CLOSED);
  }

  /** @internal Acknowledges what a stream consumed: at half its window, or all of it (`now`). */
  ackStream(s: H2Stream, now = false): void {
    if (s.closed || s.remoteEnded || s.paused || s.unacked === 0) return;
    if (!now && s.unacked < this.streamWindow / 2) return;
    this.emit(smallFrame(FRAME.WINDOW_UPDATE, 0, s.id, u32(s.unacked)));
    s.unacked = 0;
  }

  private maybeClosed(s: H2Stream): void {
    if (s.closed) return;
    if (s.localEnded && s.remoteEnded) return this.finish(s, H2_ERROR.NO_ERROR, '');
    if (this.role === 'server' && s.localEnded) {
      // the answer is complete before the request: the client is asked to stop sending, without error
      this.sendReset(s.id, H2_ERROR.NO_ERROR);
      return this.finish(s, H2_ERROR.NO_ERROR, '');
    }
    if (this.role === 'client' && s.remoteEnded) {
      // the answer is complete before the request was: this side ends too (a reset would look like an abort)
      s.queue = [];
      s.queued = 0;
      this.emit(smallFrame(FRAME.DATA, FLAG_END_STREAM, s.id));
      s.localEnded = true;
      return this.finish(s, H2_ERROR.NO_ERROR, '');
    }
  }

  private finish(s: H2Stream, code: number, reason: string): void {
    if (s.closed) return;
    s.closed = true;
    if (s.id !== 0) this.streams.delete(s.id);
    else if (this.waiting.includes(s)) this.waiting.splice(this.waiting.indexOf(s), 1);
    this.blocked.delete(s);
    s.queue = [];
    s.queued = 0;
    s.onClose?.(code, reason);
    this.openWaiting();
    if (this.goawaySent && this.streams.size === 0 && !this.destroyed) this.endSocket();
    else if (this.goaway && this.streams.size === 0) this.destroy('the peer went away');
  }

  private endSocket(): void {
    if (this.destroyed) return;
    this.flush();
    this.socket.end();
    // a peer that does not close its side soon after is cut off: a server stopping waits for its connections
    setTimeout(() => this.destroy('the connection was closed'), LINGER_MS).unref();
  }

  private fail(h2Code: number, message: string): void {
    if (this.destroyed) return;
    this.emit(this.goawayFrame(h2Code, message));
    this.flush();
    this.socket.end();
    // a peer that does not close its side in time is cut off
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
    this.teardown(h2Code, `HTTP/2 error: ${message}`);
  }

  // --- receiving -----------------------------------------------------------------------------------------------

  private receive(data: Buffer): void {
    if (this.destroyed) return;
    let buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = undefined;
    if (!this.prefaceSeen) {
      if (buf.length < PREFACE.length) {
        if (!PREFACE.subarray(0, buf.length).equals(buf)) return this.fail(H2_ERROR.PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
        this.pending = buf;
        return;
      }
      if (!PREFACE.equals(buf.subarray(0, PREFACE.length))) return this.fail(H2_ERROR.PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
      this.prefaceSeen = true;
      buf = buf.subarray(PREFACE.length);
    }
    let off = 0;
    while (buf.length - off >= 9) {
      const length = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
      if (length > DEFAULT_FRAME_SIZE) return this.fail(H2_ERROR.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
      if (buf.length - off - 9 < length) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const id = buf.readUInt32BE(off + 5) & 0x7fffffff;
      const payload = buf.subarray(off + 9, off + 9 + length);
      off += 9 + length;
      try {
        this.frame(type, flags, id, payload);
      } catch (e) {
        if (e instanceof HpackError) return this.fail(H2_ERROR.COMPRESSION_ERROR, e.message);
        if (e instanceof H2Error) return this.fail(e.h2Code, e.message);
        throw e;
      }
      if (this.destroyed) return;
    }
    if (off < buf.length) this.pending = buf.subarray(off);
  }

  private frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.continuation && type !== FRAME.CONTINUATION) throw new H2Error('ERR_H2_PROTOCOL', 'a header block was interrupted', H2_ERROR.PROTOCOL_ERROR);
    switch (type) {
      case FRAME.DATA:
        return this.onDataFrame(flags, id, payload);
      case FRAME.HEADERS: {
        if (id === 0) throw new H2Error('ERR_H2_PROTOCOL', 'HEADERS on stream 0', H2_ERROR.PROTOCOL_ERROR);
        let start = 0;
        let end = payload.length;
        if (flags & FLAG_PADDED) {
          start = 1;
          end -= payload[0]!;
        }
        if (flags & FLAG_PRIORITY) {
          if (payload.length >= start + 4 && (payload.readUInt32BE(start) & 0x7fffffff) === id) flags |= FLAG_SELF_DEPENDENT;
          start += 5;
        }
        if (start > end) throw new H2Error('ERR_H2_PROTOCOL', 'HEADERS padding too long', H2_ERROR.PROTOCOL_ERROR);
        const block = payload.subarray(start, end);
        if (flags & FLAG_END_HEADERS) return this.onHeaderBlock(id, flags, block);
        this.continuation = { id, flags, parts: [block], size: block.length };
        return;
      }
      case FRAME.CONTINUATION: {
        const c = this.continuation;
        if (!c || c.id !== id) throw new H2Error('ERR_H2_PROTOCOL', 'unexpected CONTINUATION', H2_ERROR.PROTOCOL_ERROR);
        c.parts.push(payload);
        c.size += payload.length;
        // a list over the limit is still decoded (it fails its stream only); a block this much larger is not
        if (c.size > 4 * this.maxHeaderList) throw new H2Error('ERR_H2_PROTOCOL', 'header block too large', H2_ERROR.PROTOCOL_ERROR);
        if (flags & FLAG_END_HEADERS) {
          this.continuation = undefined;
          this.onHeaderBlock(id, c.flags, Buffer.concat(c.parts, c.size));
        }
        return;
      }
      case FRAME.RST_STREAM: {
        if (id === 0 || payload.length !== 4) throw new H2Error('ERR_H2_PROTOCOL', 'malformed RST_STREAM', H2_ERROR.PROTOCOL_ERROR);
        if (this.idle(id)) throw new H2Error('ERR_H2_PROTOCOL', `RST_STREAM on idle stream ${id}`, H2_ERROR.PROTOCOL_ERROR);
        const s = this.streams.get(id);
        if (s) {
          const code = payload.readUInt32BE(0);
          this.finish(s, code, `stream reset by the peer (code ${code})`);
        }
        return;
      }
      case FRAME.SETTINGS:
        if (id !== 0) throw new H2Error('ERR_H2_PROTOCOL', 'SETTINGS on a stream', H2_ERROR.PROTOCOL_ERROR);
        if (flags & FLAG_ACK) {
          if (payload.length !== 0) throw new H2Error('ERR_H2_PROTOCOL', 'SETTINGS acknowledgement with a payload', H2_ERROR.FRAME_SIZE_ERROR);
          return;
        }
        if (payload.length % 6 !== 0) throw new H2Error('ERR_H2_PROTOCOL', 'malformed SETTINGS', H2_ERROR.FRAME_SIZE_ERROR);
        for (let i = 0; i < payload.length; i += 6) this.setting(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
        // the acknowledgement goes out before anything the new values allow: a peer may count on a larger window or
        // more streams only from the moment its settings are acknowledged (gRPC's C core does, and resets otherwise)
        this.emit(smallFrame(FRAME.SETTINGS, FLAG_ACK, 0));
        for (const s of [...this.blocked]) this.flushStream(s);
        this.openWaiting();
        return;
      case FRAME.PING:
        if (id !== 0 || payload.length !== 8) throw new H2Error('ERR_H2_PROTOCOL', 'malformed PING', H2_ERROR.PROTOCOL_ERROR);
        if (!(flags & FLAG_ACK)) this.emit(smallFrame(FRAME.PING, FLAG_ACK, 0, payload));
        return;
      case FRAME.GOAWAY: {
        if (payload.length < 8) throw new H2Error('ERR_H2_PROTOCOL', 'malformed GOAWAY', H2_ERROR.PROTOCOL_ERROR);
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        const code = payload.readUInt32BE(4);
        this.goaway = true;
        // streams the peer never saw may be tried again elsewhere
        for (const s of [...this.streams.values(), ...this.waiting]) if ((s.id === 0 || s.id > last) && this.role === 'client') this.finish(s, H2_ERROR.REFUSED_STREAM, `the peer went away (code ${code})`);
        if (this.streams.size === 0) this.destroy('the peer went away');
        return;
      }
      case FRAME.WINDOW_UPDATE: {
        if (payload.length !== 4) throw new H2Error('ERR_H2_PROTOCOL', 'malformed WINDOW_UPDATE', H2_ERROR.FRAME_SIZE_ERROR);
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (inc === 0 && id === 0) throw new H2Error('ERR_H2_PROTOCOL', 'WINDOW_UPDATE of 0', H2_ERROR.PROTOCOL_ERROR);
        if (id === 0) {
          this.sendWindow += inc;
          if (this.sendWindow > MAX_WINDOW) throw new H2Error('ERR_H2_FLOW', 'connection window overflow', H2_ERROR.FLOW_CONTROL_ERROR);
          for (const s of [...this.blocked]) this.flushStream(s);
          return;
        }
        if (this.idle(id)) throw new H2Error('ERR_H2_PROTOCOL', `WINDOW_UPDATE on idle stream ${id}`, H2_ERROR.PROTOCOL_ERROR);
        const s = this.streams.get(id);
        if (!s) return;
        if (inc === 0) return this.resetStream(s, H2_ERROR.PROTOCOL_ERROR);
        s.sendWindow += inc;
        if (s.sendWindow > MAX_WINDOW) return this.resetStream(s, H2_ERROR.FLOW_CONTROL_ERROR);
        this.flushStream(s);
        return;
      }
      case FRAME.PUSH_PROMISE:
        throw new H2Error('ERR_H2_PROTOCOL', 'server push is not accepted', H2_ERROR.PROTOCOL_ERROR);
      case FRAME.PRIORITY: {
        // priorities carry nothing for us, but a malformed one is still an error
        if (id === 0) throw new H2Error('ERR_H2_PROTOCOL', 'PRIORITY on stream 0', H2_ERROR.PROTOCOL_ERROR);
        const s = this.streams.get(id);
        if (payload.length !== 5) return s ? this.resetStream(s, H2_ERROR.FRAME_SIZE_ERROR) : this.sendReset(id, H2_ERROR.FRAME_SIZE_ERROR);
        if ((payload.readUInt32BE(0) & 0x7fffffff) === id) return s ? this.resetStream(s, H2_ERROR.PROTOCOL_ERROR) : this.sendReset(id, H2_ERROR.PROTOCOL_ERROR);
        return;
      }
      default:
        // unknown frame types carry nothing for us
        return;
    }
  }

  private setting(key: number, value: number): void {
    switch (key) {
      case SETTING.INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) throw new H2Error('ERR_H2_FLOW', 'initial window too large', H2_ERROR.FLOW_CONTROL_ERROR);
        const delta = value - this.peerStreamWindow;
        this.peerStreamWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
        return;
      }
      case SETTING.MAX_CONCURRENT_STREAMS:
        this.peerMaxStreams = value;
        return;
      case SETTING.HEADER_TABLE_SIZE:
        this.encoder.setMaxSize(value);
        return;
      case SETTING.ENABLE_PUSH:
        if (value > 1) throw new H2Error('ERR_H2_PROTOCOL', 'SETTINGS_ENABLE_PUSH neither 0 nor 1', H2_ERROR.PROTOCOL_ERROR);
        return;
      case SETTING.MAX_FRAME_SIZE:
        if (value < DEFAULT_FRAME_SIZE || value > 16_777_215) throw new H2Error('ERR_H2_PROTOCOL', 'invalid frame size', H2_ERROR.PROTOCOL_ERROR);
        this.peerMaxFrame = value;
        return;
      default:
        // push is never used; the header list size limit is the peer's to enforce
        return;
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new H2Error('ERR_H2_PROTOCOL', 'DATA on stream 0', H2_ERROR.PROTOCOL_ERROR);
    // the connection window counts every DATA byte, padding included, whatever becomes of the stream
    this.connUnacked += payload.length;
    if (this.connUnacked >= this.connectionWindow / 2) {
      this.emit(smallFrame(FRAME.WINDOW_UPDATE, 0, 0, u32(this.connUnacked)));
      this.connUnacked = 0;
    }
    let data = payload;
    if (flags & FLAG_PADDED) {
      // a connection error whatever the stream's state
      const pad = payload[0] ?? 0;
      if (pad >= payload.length) throw new H2Error('ERR_H2_PROTOCOL', 'DATA padding too long', H2_ERROR.PROTOCOL_ERROR);
      data = payload.subarray(1, payload.length - pad);
    }
    const s = this.streams.get(id);
    if (!s) {
      if (this.idle(id)) throw new H2Error('ERR_H2_PROTOCOL', `DATA on idle stream ${id}`, H2_ERROR.PROTOCOL_ERROR);
      return this.onClosedStream(id);
    }
    // the peer ended its side already
    if (s.remoteEnded) return this.resetStream(s, H2_ERROR.STREAM_CLOSED);
    s.unacked += payload.length;
    if (s.contentLength !== undefined) {
      s.received += data.length;
      if (s.received > s.contentLength || (flags & FLAG_END_STREAM && s.received !== s.contentLength)) return this.resetStream(s, H2_ERROR.PROTOCOL_ERROR);
    }
    if (data.length > 0) s.onData?.(data);
    if (flags & FLAG_END_STREAM) {
      s.remoteEnded = true;
      s.onEnd?.();
      this.maybeClosed(s);
    } else this.ackStream(s);
  }

  private onHeaderBlock(id: number, flags: number, block: Buffer): void {
    // the block is decoded whatever becomes of it: the peer's encoder table changed with it
    let fields: HeaderField[] = [];
    let tooLarge: HeaderListTooLarge | undefined;
    try {
      fields = this.decoder.decode(block, this.maxHeaderList);
    } catch (e) {
      if (!(e instanceof HeaderListTooLarge)) throw e;
      tooLarge = e;
    }
    const headers = toHeaders(fields);
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s?.remoteEnded) return this.resetStream(s, H2_ERROR.STREAM_CLOSED);
    // a second header block on a stream is its trailers, which carry no pseudo-headers
    const trailers = s !== undefined && (this.role === 'server' || s.responded);
    if (s && (flags & FLAG_SELF_DEPENDENT || (trailers && fields.some(([n]) => n.charCodeAt(0) === 58)))) return this.resetStream(s, H2_ERROR.PROTOCOL_ERROR);
    if (tooLarge && s) {
      // response headers or trailers this side will not take: that stream alone ends
      this.sendReset(s.id, H2_ERROR.ENHANCE_YOUR_CALM);
      return this.finish(s, H2_ERROR.ENHANCE_YOUR_CALM, tooLarge.message);
    }
    if (this.role === 'server' && !s) {
      if (id % 2 === 0) throw new H2Error('ERR_H2_PROTOCOL', `HEADERS on server stream ${id}`, H2_ERROR.PROTOCOL_ERROR);
      if (id <= this.lastPeerStream) {
        // a stream this side reset: what was still on its way is dropped; any other stream cannot be opened again
        if (this.resetByUs.has(id)) return;
        throw new H2Error('ERR_H2_PROTOCOL', `HEADERS on closed stream ${id}`, H2_ERROR.PROTOCOL_ERROR);
      }
      this.lastPeerStream = id;
      if (this.goawaySent || this.streams.size >= this.maxStreams) {
        this.sendReset(id, H2_ERROR.REFUSED_STREAM);
        return;
      }
      const malformed = flags & FLAG_SELF_DEPENDENT ? 'depends on itself' : tooLarge ? undefined : malformedRequest(fields);
      if (malformed) {
        this.sendReset(id, H2_ERROR.PROTOCOL_ERROR);
        return;
      }
      const ns = new H2Stream(id, this, this.peerStreamWindow);
      const length = headers['content-length'];
      if (typeof length === 'string') ns.contentLength = Number(length);
      this.streams.set(id, ns);
      if (tooLarge) this.onHeadersTooLarge(ns, tooLarge.size, tooLarge.limit);
      else this.onStream?.(ns, headers);
      if (endStream && !ns.closed) {
        ns.remoteEnded = true;
        ns.onEnd?.();
        this.maybeClosed(ns);
      }
      return;
    }
    if (!s) {
      if (this.idle(id) || id % 2 === 0) throw new H2Error('ERR_H2_PROTOCOL', `HEADERS on stream ${id} this side did not open`, H2_ERROR.PROTOCOL_ERROR);
      return this.onClosedStream(id);
    }
    if (this.role === 'client' && !s.responded) {
      const status = headers[':status'];
      // an informational answer (1xx) is followed by the real one
      if (typeof status === 'string' && status.startsWith('1') && !endStream) return;
      s.responded = true;
      s.onResponse?.(headers, endStream);
    } else {
      if (!endStream) throw new H2Error('ERR_H2_PROTOCOL', 'trailers without END_STREAM', H2_ERROR.PROTOCOL_ERROR);
      if (s.contentLength !== undefined && s.received !== s.contentLength) return this.resetStream(s, H2_ERROR.PROTOCOL_ERROR);
      s.onTrailers?.(headers);
    }
    if (endStream && !s.closed) {
      s.remoteEnded = true;
      s.onEnd?.();
      this.maybeClosed(s);
    }
  }
}
