import { EventEmitter } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';
import { gunzipSync, inflateSync } from 'node:zlib';
import { Metadata, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { H2_ERROR, H2Connection, type H2Stream, type Headers, type OutgoingHeaders } from './connection.js';
import { FrameReader, finish, frame, type GrpcStatus, parseGrpcTimeout, refuseLargeHeaders } from './grpc-wire.js';

/**
 * A gRPC server on this package's own HTTP/2 connections, for the services generated for grpc-js (`…Service`
 * definitions with their serializers) and handlers written against grpc-js's call types: unary handlers get a call
 * with `request` and a callback; streaming ones get object-mode streams that write and read messages, emit
 * `cancelled` when the caller goes away, and end with the status of an emitted `error`. It serves plain sockets (a
 * unix socket for machined's API); what it saves over grpc-js is CPU per call on a hot local path.
 */

/** A method as ts-proto generates it for grpc-js. */
export interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (b: Buffer) => unknown;
  responseSerialize: (v: never) => Buffer;
}

export type ServiceDefinition = Record<string, MethodDefinition>;

export interface GrpcServerOptions {
  /** the largest request message accepted, in bytes (default 4 MiB, as grpc-js) */
  maxReceiveMessageLength?: number;
  logger?: Logger;
}

/** What a handler's error becomes: grpc-js's rules (a numeric `code`, `details` or the message, `metadata`). */
function toStatus(e: unknown): GrpcStatus & { metadata?: Metadata } {
  const o = (e ?? {}) as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
  const code = typeof o.code === 'number' && Number.isInteger(o.code) ? o.code : status.UNKNOWN;
  const details = typeof o.details === 'string' ? o.details : typeof o.message === 'string' ? o.message : 'Unknown Error';
  return { code, details, metadata: o.metadata instanceof Metadata ? o.metadata : undefined };
}

/** Request headers that are the transport's, not the caller's metadata. */
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];

const RESPONSE: OutgoingHeaders = { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity,deflate,gzip' };

/** The part every call type shares: the HTTP/2 stream, its request headers, the status it ends with. */
class CallCore {
  /** the caller went away, or the deadline passed */
  cancelled = false;
  done = false;
  private metadataCache: Metadata | undefined;
  private responseMetadata: Metadata | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly deadline: number;
  onCancel: (() => void) | undefined;

  constructor(
    readonly stream: H2Stream,
    readonly headers: Headers,
    readonly path: string,
    readonly peer: string,
  ) {
    const ms = parseGrpcTimeout(headers['grpc-timeout']);
    this.deadline = ms === undefined ? Infinity : Date.now() + ms;
    if (ms !== undefined) {
      this.timer = setTimeout(() => {
        this.end({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
        this.cancel();
      }, ms);
      this.timer.unref?.();
    }
  }

  get metadata(): Metadata {
    if (!this.metadataCache) {
      const md = Metadata.fromHttp2Headers(this.headers as never);
      for (const h of TRANSPORT_HEADERS) md.remove(h);
      this.metadataCache = md;
    }
    return this.metadataCache;
  }

  sendMetadata(md: Metadata): void {
    if (this.stream.headersSent) return;
    this.responseMetadata = this.responseMetadata ?? new Metadata();
    this.responseMetadata.merge(md);
  }

  private responseHeaders(): OutgoingHeaders {
    return this.responseMetadata ? { ...RESPONSE, ...this.responseMetadata.toHttp2Headers() } : RESPONSE;
  }

  /** Writes one serialized message; false when the caller should wait for the stream's drain. */
  send(message: Buffer): boolean {
    if (this.done || this.stream.closed) return true;
    if (!this.stream.headersSent) this.stream.respond(this.responseHeaders());
    return this.stream.write(frame(message));
  }

  /** Ends the call with a status (the first one wins). */
  end(st: GrpcStatus & { metadata?: Metadata }): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    finish(this.stream, st, st.metadata?.toHttp2Headers(), this.responseHeaders());
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.onCancel?.();
  }
}

/** The call surface grpc-js handlers use, mixed into each call type. */
interface SurfaceCall {
  core: CallCore;
}

function defineSurface(proto: object): void {
  Object.defineProperties(proto, {
    metadata: {
      get(this: SurfaceCall) {
        return this.core.metadata;
      },
    },
    cancelled: {
      get(this: SurfaceCall) {
        return this.core.cancelled;
      },
    },
  });
  Object.assign(proto, {
    getPath(this: SurfaceCall) {
      return this.core.path;
    },
    getPeer(this: SurfaceCall) {
      return this.core.peer;
    },
    getDeadline(this: SurfaceCall) {
      return this.core.deadline;
    },
    sendMetadata(this: SurfaceCall, md: Metadata) {
      this.core.sendMetadata(md);
    },
  });
}

class UnaryCall extends EventEmitter {
  constructor(
    readonly core: CallCore,
    readonly request: unknown,
  ) {
    super();
  }
}
defineSurface(UnaryCall.prototype);

/** The response side of a streaming call: messages serialized onto the stream as its window allows, then the status. */
class ResponseSink {
  status: GrpcStatus & { metadata?: Metadata } = { code: status.OK, details: '' };
  private waiting: (() => void) | undefined;

  constructor(
    private readonly core: CallCore,
    private readonly serialize: (v: never) => Buffer,
  ) {
    core.stream.onDrain = () => this.release();
  }

  /** Lets a write waiting for the stream's window go on (drained, or the call is over). */
  release(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  write(message: unknown, cb: (e?: Error | null) => void): void {
    let bytes: Buffer;
    try {
      bytes = this.serialize(message as never);
    } catch (e) {
      this.core.end({ code: status.INTERNAL, details: `Error serializing response: ${(e as Error).message}` });
      cb();
      return;
    }
    if (this.core.send(bytes)) cb();
    else this.waiting = () => cb();
  }

  final(cb: (e?: Error | null) => void): void {
    this.core.end(this.status);
    cb();
  }
}

/** A server-streaming call: an object-mode Writable of response messages. */
class ServerStreamCall extends Writable {
  readonly sink: ResponseSink;

  constructor(
    readonly core: CallCore,
    serialize: (v: never) => Buffer,
    readonly request?: unknown,
  ) {
    super({ objectMode: true });
    this.sink = new ResponseSink(core, serialize);
    // a handler ends the call with an error by emitting it
    this.on('error', (e: unknown) => {
      this.sink.status = toStatus(e);
      this.end();
    });
  }

  override _write(message: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sink.write(message, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.sink.final(cb);
  }

  override end(...args: unknown[]): this {
    // grpc-js lets `end(metadata)` carry the trailers
    if (args[0] instanceof Metadata) {
      this.sink.status = { ...this.sink.status, metadata: args[0] };
      return super.end();
    }
    return super.end(...(args as []));
  }
}
defineSurface(ServerStreamCall.prototype);

/** A client-streaming call: an object-mode Readable of request messages. */
class ClientStreamCall extends Readable {
  constructor(readonly core: CallCore) {
    super({ objectMode: true });
  }

  override _read(): void {
    this.core.stream.resume();
  }
}
defineSurface(ClientStreamCall.prototype);

/** A bidirectional call: request messages to read, response messages to write. */
class DuplexCall extends Duplex {
  readonly sink: ResponseSink;

  constructor(
    readonly core: CallCore,
    serialize: (v: never) => Buffer,
  ) {
    super({ objectMode: true });
    this.sink = new ResponseSink(core, serialize);
    this.on('error', (e: unknown) => {
      this.sink.status = toStatus(e);
      this.end();
    });
  }

  override _read(): void {
    this.core.stream.resume();
  }

  override _write(message: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sink.write(message, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.sink.final(cb);
  }
}
defineSurface(DuplexCall.prototype);

type Handler = (call: never, cb: (err: unknown, value?: unknown) => void) => void;

interface Route {
  def: MethodDefinition;
  handler: Handler;
}

/** A request message off the wire: decompressed when the caller compressed it. */
function inflate(message: Buffer, compressed: boolean, encoding: string | undefined): Buffer {
  if (!compressed) return message;
  if (encoding === 'gzip') return gunzipSync(message);
  if (encoding === 'deflate') return inflateSync(message);
  throw Object.assign(new Error(`Received compressed message but "grpc-encoding" header was ${encoding ?? 'missing'}`), { code: status.UNIMPLEMENTED });
}

export class GrpcServer {
  private readonly routes = new Map<string, Route>();
  private readonly connections = new Set<H2Connection>();
  private readonly servers: NetServer[] = [];
  private readonly maxReceive: number;
  private readonly log: Logger | undefined;
  private shuttingDown = false;

  constructor(o: GrpcServerOptions = {}) {
    this.maxReceive = o.maxReceiveMessageLength ?? 4 * 1024 * 1024;
    this.log = o.logger;
  }

  /** Registers the methods of a service; `impl` is keyed as the definition is. */
  addService(def: ServiceDefinition, impl: object): void {
    for (const [key, m] of Object.entries(def)) {
      const handler = (impl as Record<string, unknown>)[key];
      // a method without a handler answers Unimplemented, as one no service has
      if (typeof handler !== 'function') continue;
      if (this.routes.has(m.path)) throw new TypeError(`${m.path} is registered twice`);
      this.routes.set(m.path, { def: m, handler: handler.bind(impl) as Handler });
    }
  }

  /** Listens on a unix socket path; resolves once it accepts connections. */
  async listen(path: string): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Serves one connected socket. */
  accept(socket: Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix:';
    const conn = new H2Connection(socket, {
      role: 'server',
      onStream: (stream, headers) => this.call(stream, headers, peer),
      onHeadersTooLarge: refuseLargeHeaders,
    });
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
  }

  /** Stops taking connections and calls; resolves when every call in flight has ended. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const s of this.servers) s.close();
    const closing = [...this.connections].map((c) => new Promise<void>((resolve) => c.onClose(resolve)));
    for (const c of this.connections) c.close();
    await Promise.all(closing);
  }

  /** Cuts every connection now. */
  forceShutdown(): void {
    this.shuttingDown = true;
    for (const s of this.servers) s.close();
    for (const c of this.connections) c.destroy('the server stopped');
  }

  private call(stream: H2Stream, headers: Headers, peer: string): void {
    const path = String(headers[':path'] ?? '');
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, true);
      return;
    }
    const core = new CallCore(stream, headers, path, peer);
    // the caller went away (a reset, the connection lost) before the call ended
    stream.onClose = (code) => {
      if (code !== H2_ERROR.NO_ERROR || !core.done) core.cancel();
    };
    const route = this.routes.get(path);
    if (!route) {
      core.end({ code: status.UNIMPLEMENTED, details: `The server does not implement the method ${path}` });
      return;
    }
    const { def } = route;
    const encoding = headers['grpc-encoding'] === undefined ? undefined : String(headers['grpc-encoding']);
    const requests: unknown[] = [];
    // a streamed request is read by the handler as its messages come
    const reading = def.requestStream ? (def.responseStream ? new DuplexCall(core, def.responseSerialize) : new ClientStreamCall(core)) : undefined;
    /** the call the handler was given, once it was */
    let surface: UnaryCall | ServerStreamCall | ClientStreamCall | DuplexCall | undefined = reading;
    core.onCancel = () => {
      if (!surface) return;
      // a write waiting for the window goes on (into nothing)
      if ('sink' in surface) surface.sink.release();
      (surface as EventEmitter).emit('cancelled');
      if (!(surface instanceof UnaryCall) && !surface.destroyed) surface.destroy();
    };
    let failed = false;
    const reader = new FrameReader(this.maxReceive, (bytes, compressed) => {
      if (failed) return;
      let msg: unknown;
      try {
        msg = def.requestDeserialize(inflate(bytes, compressed, encoding));
      } catch (e) {
        failed = true;
        const code = (e as { code?: unknown }).code;
        core.end(typeof code === 'number' ? toStatus(e) : { code: status.INTERNAL, details: `Error deserializing request: ${(e as Error).message}` });
        core.cancel();
        return;
      }
      if (!reading) requests.push(msg);
      else if (!reading.push(msg)) stream.pause();
    });
    stream.onData = (chunk) => {
      if (failed) return;
      const over = reader.push(chunk);
      if (over !== undefined) {
        failed = true;
        core.end({ code: status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${over} vs. ${this.maxReceive})` });
        core.cancel();
      }
    };

    const run = (call: object, cb?: (err: unknown, value?: unknown) => void) => {
      try {
        route.handler(call as never, cb ?? (() => undefined));
      } catch (e) {
        this.log?.error({ method: path, err: e }, 'handler threw');
        core.end({ code: status.INTERNAL, details: (e as Error)?.message ?? String(e) });
        core.cancel();
      }
    };
    const unaryCallback = (err: unknown, value?: unknown, trailer?: unknown) => {
      if (core.done) return;
      if (err) {
        core.end(toStatus(err));
        return;
      }
      let bytes: Buffer;
      try {
        bytes = def.responseSerialize(value as never);
      } catch (e) {
        core.end({ code: status.INTERNAL, details: `Error serializing response: ${(e as Error).message}` });
        return;
      }
      core.send(bytes);
      core.end({ code: status.OK, details: '', metadata: trailer instanceof Metadata ? trailer : undefined });
    };

    if (!def.requestStream) {
      // one request message, complete once the caller ends its side
      stream.onEnd = () => {
        if (failed || core.done) return;
        if (requests.length !== 1 || !reader.atBoundary) {
          core.end({ code: status.INTERNAL, details: `expected exactly one request message, got ${requests.length}` });
          core.cancel();
          return;
        }
        const request = requests[0];
        if (def.responseStream) {
          const call = new ServerStreamCall(core, def.responseSerialize, request);
          surface = call;
          run(call);
        } else {
          const call = new UnaryCall(core, request);
          surface = call;
          run(call, unaryCallback);
        }
      };
      return;
    }

    // the request is a stream: the handler runs now
    const call = reading!;
    stream.onEnd = () => {
      if (!failed) call.push(null);
    };
    run(call, def.responseStream ? undefined : unaryCallback);
  }
}
