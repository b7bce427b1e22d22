import { type ChannelOptions, Client as GrpcClient, connectivityState, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type Endpoint, parseEndpoint } from './endpoint.js';
import { ClientError, RpcError } from './errors.js';
import type { CallOptions, DeepPartial, DuplexStream, GrpcServiceDefinition, MethodDefinition, ResponseStream, ServiceClient, ServiceDefinition } from './rpc.js';
import { type ClientTLS, channelCredentials } from './tls.js';

/** The gRPC message size limit of the Talos API, both ways. */
export const MAX_MESSAGE_SIZE = 32 * 1024 * 1024;

export interface ClientOptions {
  /** apid endpoints (`host`, `host:port`, `[v6]:port`, `https://...`, `http://...` for plaintext, `unix:///path`) */
  endpoints: string[];
  tls: ClientTLS;
  /** nodes every call targets unless its options say otherwise (a talosconfig context's `nodes`) */
  nodes?: string[];
  /** extra grpc-js channel options */
  channelOptions?: ChannelOptions;
}

interface Connection {
  endpoint: Endpoint;
  grpc: GrpcClient;
}

const identity = (b: Buffer) => b;

interface StreamState {
  cancelled: boolean;
  current?: { cancel(): void };
  onHeaders: (md: Metadata) => void;
}

/**
 * The channels and calls a client of the Talos API is made of: mTLS (or plaintext, or unix socket) channels to one or
 * more endpoints with failover, `nodes`/`node` routing, and typed unary and streaming calls with deadlines and
 * cancellation. A subclass picks the services it offers with `service()`, so it loads only their generated code.
 */
export class ClientBase {
  readonly endpoints: readonly Endpoint[];
  readonly defaultNodes: readonly string[];
  private readonly connections: (Connection | undefined)[];
  private readonly tls: ClientTLS;
  private readonly channelOptions: ChannelOptions;
  /** index of the endpoint that answered last: calls start there */
  private preferred = 0;
  private closed = false;

  constructor(options: ClientOptions) {
    if (options.endpoints.length === 0) {
      throw new ClientError('BRONZE_CLIENT_NO_ENDPOINTS', 'no endpoints: give --endpoints or set them in the talosconfig context');
    }
    this.endpoints = options.endpoints.map((e) => parseEndpoint(e));
    this.connections = this.endpoints.map(() => undefined);
    this.tls = options.tls;
    this.defaultNodes = options.nodes ?? [];
    this.channelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_SIZE,
      'grpc.max_send_message_length': -1,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5_000,
      ...options.channelOptions,
    };
    // fail early on bad TLS material rather than on the first call
    if (this.endpoints.some((e) => !e.plaintext)) channelCredentials(this.tls);
  }

  /** Closes every channel; calls in flight fail with Cancelled. */
  close(): void {
    this.closed = true;
    for (const c of this.connections) c?.grpc.close();
  }

  /**
   * Builds the typed calls of a service from the two definitions ts-proto generates for it: the grpc-js one gives the
   * method names and paths, the generic one the message codecs (requests are completed with `fromPartial`).
   */
  service<S extends GrpcServiceDefinition>(grpcDef: S, def: ServiceDefinition): ServiceClient<S> {
    const byName = new Map(Object.values(def.methods).map((m) => [m.name, m]));
    const out: Record<string, unknown> = {};
    for (const [key, g] of Object.entries(grpcDef)) {
      const path = g.path;
      const m = byName.get(path.slice(path.lastIndexOf('/') + 1));
      if (!m) throw new ClientError('BRONZE_CLIENT_RPC', `no codec for ${path} in ${def.fullName}`);
      if (!m.requestStream && !m.responseStream) out[key] = (req?: unknown, opts?: CallOptions) => this.unary(path, m, req, opts);
      else if (!m.requestStream) out[key] = (req?: unknown, opts?: CallOptions) => this.serverStream(path, m, req, opts);
      else if (!m.responseStream) out[key] = (reqs: Iterable<unknown> | AsyncIterable<unknown>, opts?: CallOptions) => this.clientStream(path, m, reqs, opts);
      else out[key] = (opts?: CallOptions) => this.bidi(path, m, opts);
    }
    return out as ServiceClient<S>;
  }

  private connection(i: number): Connection {
    if (this.closed) throw new ClientError('BRONZE_CLIENT_RPC', 'client is closed');
    let c = this.connections[i];
    if (!c) {
      const endpoint = this.endpoints[i]!;
      const creds = endpoint.plaintext ? credentials.createInsecure() : channelCredentials(this.tls);
      c = { endpoint, grpc: new GrpcClient(endpoint.address, creds, this.channelOptions) };
      this.connections[i] = c;
    }
    return c;
  }

  /** The request metadata for the call's routing and extra keys. */
  metadataFor(opts: CallOptions = {}): Metadata {
    const md = new Metadata();
    if (opts.node !== undefined) md.set('node', opts.node);
    else for (const n of opts.nodes ?? this.defaultNodes) md.add('nodes', n);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) {
      for (const x of Array.isArray(v) ? v : [v]) md.add(k, x);
    }
    return md;
  }

  private callOptions(opts: CallOptions = {}): { deadline?: Date } {
    let deadline = opts.deadline;
    if (opts.timeout !== undefined) {
      const t = new Date(Date.now() + opts.timeout);
      if (!deadline || t < deadline) deadline = t;
    }
    return deadline ? { deadline } : {};
  }

  /** Whether a failed call never reached a server, so another endpoint may be tried. */
  private unreachable(err: ServiceError, c: Connection): boolean {
    if (err.code !== status.UNAVAILABLE) return false;
    const state = c.grpc.getChannel().getConnectivityState(false);
    return state !== connectivityState.READY;
  }

  /** Runs `attempt` against the endpoints in turn, starting at the preferred one, while they are unreachable. */
  private async withFailover<T>(attempt: (c: Connection) => Promise<T>): Promise<T> {
    const n = this.endpoints.length;
    const failures: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const c = this.connection(i);
      try {
        const result = await attempt(c);
        this.preferred = i;
        return result;
      } catch (e) {
        const err = e as ServiceError;
        if (k < n - 1 && typeof err.code === 'number' && this.unreachable(err, c)) {
          failures.push(`${c.endpoint.address}: ${err.details ?? err.message}`);
          continue;
        }
        if (e instanceof RpcError || e instanceof ClientError) throw e;
        if (typeof err.code === 'number') {
          const rpc = RpcError.from(err, c.endpoint.address);
          if (failures.length > 0) {
            throw new RpcError(rpc.grpcCode, `${[...failures, `${c.endpoint.address}: ${rpc.details}`].join('; ')}`, c.endpoint.address, { cause: e });
          }
          throw rpc;
        }
        throw e;
      }
    }
    throw new ClientError('BRONZE_CLIENT_NO_ENDPOINTS', 'no endpoint could be reached');
  }

  private unary(path: string, m: MethodDefinition, req: unknown, opts: CallOptions = {}): Promise<unknown> {
    const message = m.requestType.fromPartial((req ?? {}) as never);
    const bytes = Buffer.from(m.requestType.encode(message).finish());
    return this.withFailover(
      (c) =>
        new Promise((resolve, reject) => {
          if (opts.signal?.aborted) return reject(new RpcError(status.CANCELLED, 'call cancelled before it started', c.endpoint.address));
          const call = c.grpc.makeUnaryRequest(
            path,
            identity,
            (b: Buffer) => m.responseType.decode(b),
            bytes,
            this.metadataFor(opts),
            this.callOptions(opts),
            (err, res) => {
              opts.signal?.removeEventListener('abort', onAbort);
              if (err) reject(err);
              else resolve(res);
            },
          );
          const onAbort = () => call.cancel();
          opts.signal?.addEventListener('abort', onAbort, { once: true });
        }),
    );
  }

  private clientStream(path: string, m: MethodDefinition, reqs: Iterable<unknown> | AsyncIterable<unknown>, opts: CallOptions = {}): Promise<unknown> {
    const c = this.connection(this.preferred);
    return new Promise((resolve, reject) => {
      const call = c.grpc.makeClientStreamRequest(
        path,
        (v: unknown) => Buffer.from(m.requestType.encode(m.requestType.fromPartial(v as never)).finish()),
        (b: Buffer) => m.responseType.decode(b),
        this.metadataFor(opts),
        this.callOptions(opts),
        (err, res) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(RpcError.from(err, c.endpoint.address));
          else resolve(res);
        },
      );
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      void (async () => {
        try {
          for await (const r of reqs as AsyncIterable<unknown>) {
            if (!call.write(r)) await new Promise((ok) => call.once('drain', ok));
          }
          call.end();
        } catch (e) {
          call.cancel();
          reject(e);
        }
      })();
    });
  }

  private serverStream(path: string, m: MethodDefinition, req: unknown, opts: CallOptions = {}): ResponseStream<unknown> {
    const message = m.requestType.fromPartial((req ?? {}) as never);
    const bytes = Buffer.from(m.requestType.encode(message).finish());
    let resolveHeaders: (md: Metadata) => void = () => {};
    const state: StreamState = { cancelled: false, onHeaders: (md) => resolveHeaders(md) };
    const headers = new Promise<Metadata>((r) => (resolveHeaders = r));
    const gen = this.iterateServerStream(path, m, bytes, opts, state);
    return {
      [Symbol.asyncIterator]: () => gen,
      cancel() {
        state.cancelled = true;
        state.current?.cancel();
      },
      headers: () => headers,
    };
  }

  /** Reads a server stream, moving to the next endpoint while none answered and the current one is unreachable. */
  private async *iterateServerStream(path: string, m: MethodDefinition, bytes: Buffer, opts: CallOptions, state: StreamState): AsyncGenerator<unknown> {
    const n = this.endpoints.length;
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const c = this.connection(i);
      const call = c.grpc.makeServerStreamRequest(path, identity, (b: Buffer) => m.responseType.decode(b), bytes, this.metadataFor(opts), this.callOptions(opts));
      state.current = call;
      call.on('metadata', state.onHeaders);
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (state.cancelled || opts.signal?.aborted) call.cancel();
      let started = false;
      try {
        for await (const msg of call) {
          started = true;
          this.preferred = i;
          yield msg;
        }
        return;
      } catch (e) {
        const err = e as ServiceError;
        if ((state.cancelled || opts.signal?.aborted) && err.code === status.CANCELLED) return;
        if (!started && k < n - 1 && this.unreachable(err, c)) continue;
        throw typeof err.code === 'number' ? RpcError.from(err, c.endpoint.address) : e;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        call.cancel();
      }
    }
  }

  private bidi(path: string, m: MethodDefinition, opts: CallOptions = {}): DuplexStream<unknown, unknown> {
    const c = this.connection(this.preferred);
    const call = c.grpc.makeBidiStreamRequest(
      path,
      (v: unknown) => Buffer.from(m.requestType.encode(m.requestType.fromPartial(v as never)).finish()),
      (b: Buffer) => m.responseType.decode(b),
      this.metadataFor(opts),
      this.callOptions(opts),
    );
    let cancelled = false;
    const onAbort = () => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const headers = new Promise<Metadata>((r) => call.once('metadata', r));
    async function* iterate(): AsyncGenerator<unknown> {
      try {
        for await (const msg of call) yield msg;
      } catch (e) {
        const err = e as ServiceError;
        if ((cancelled || opts.signal?.aborted) && err.code === status.CANCELLED) return;
        throw typeof err.code === 'number' ? RpcError.from(err, c.endpoint.address) : e;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    }
    const gen = iterate();
    return {
      [Symbol.asyncIterator]: () => gen,
      cancel() {
        cancelled = true;
        call.cancel();
      },
      headers: () => headers,
      write: (message: DeepPartial<unknown>) =>
        new Promise<void>((resolve, reject) => {
          call.write(message, (err?: Error | null) => (err ? reject(err) : resolve()));
        }),
      end: () => call.end(),
    };
  }
}
