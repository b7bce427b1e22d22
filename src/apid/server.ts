import { anyHost } from '../sys/listen.js';
import {
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  type Deadline,
  Metadata,
  Server,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type StatusObject,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ROLE_METADATA_KEY, Role } from '../api/roles.js';
import { type MethodInfo, methods, services } from '../api/services.js';
import { statusName } from '../client/errors.js';
import { AuthError, authorize, identify } from './authz.js';
import { Backends, MAX_MESSAGE_SIZE, type PeerTLS } from './backends.js';
import { ReloadableServerCredentials, type ServerTLS } from './credentials.js';
import { route } from './director.js';
import { labelStreamMessage, labelUnaryResponse, type NodeStatus, streamErrorMessage, unaryErrorResponse } from './wire.js';

export interface ApidOptions {
  /** `host:port` to listen on (`0.0.0.0:50000` on a node, its loopback address in a process cluster) */
  listen: string;
  tls: ServerTLS;
  /** no config yet: no client certificates, every caller is a reader, no routing */
  maintenance?: boolean;
  /** machined's API socket */
  machinedSocket: string;
  /** apid's client identity towards peers; without it this apid does not forward (workers) */
  peerTLS?: PeerTLS;
  /** the port peers' apids listen on */
  peerPort?: number;
  /** whether a target string names this node */
  isLocal?: (target: string) => boolean;
  logger: Logger;
}

const identity = (b: Buffer) => b;

/** Headers that belong to the transport, never forwarded. */
function forwardable(key: string): boolean {
  return !(key.startsWith(':') || key.startsWith('grpc-') || ['user-agent', 'content-type', 'te', 'host', 'authority', ROLE_METADATA_KEY].includes(key));
}

function errorText(err: { code?: number; details?: string; message?: string }): string {
  return `rpc error: code = ${statusName(err.code ?? status.UNKNOWN)} desc = ${err.details ?? err.message ?? ''}`;
}

function nodeStatus(err: ServiceError | Error): NodeStatus {
  const e = err as ServiceError;
  return { code: typeof e.code === 'number' ? e.code : status.UNAVAILABLE, message: errorText(e) };
}

type Dispatch =
  | { kind: 'error'; status: { code: status; details: string } }
  | { kind: 'many'; targets: string[]; md: Metadata }
  | { kind: 'single'; backend: Client; md: Metadata };

type AnyCall = ServerUnaryCall<Buffer, Buffer> | ServerWritableStream<Buffer, Buffer> | ServerReadableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>;

/**
 * apid: the API gateway on :50000. It terminates TLS, identifies the caller from its client certificate, checks the
 * method against the role table, and forwards the call's protobuf bytes to the local machined, to one peer apid
 * (`node`), or to many (`nodes`), labelling each node's answer with its metadata.
 */
export class Apid {
  private server: Server | undefined;
  private creds: ReloadableServerCredentials;
  private readonly backends: Backends;
  private readonly log: Logger;
  private readonly maintenance: boolean;
  private readonly isLocal: (target: string) => boolean;
  port = 0;

  constructor(private readonly opts: ApidOptions) {
    this.maintenance = opts.maintenance ?? false;
    this.creds = new ReloadableServerCredentials(opts.tls, !this.maintenance);
    this.backends = new Backends(opts.machinedSocket, opts.peerPort ?? 50000, this.maintenance ? undefined : opts.peerTLS);
    this.log = opts.logger;
    this.isLocal = opts.isLocal ?? (() => false);
  }

  async start(): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_SIZE,
      'grpc.max_send_message_length': -1,
    });
    for (const s of services) {
      if (!s.apid) continue;
      for (const def of Object.values(s.definition)) {
        const info = methods().get(def.path)!;
        this.register(server, info);
      }
    }
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(anyHost(this.opts.listen), this.creds, (e, p) => (e ? reject(e) : resolve(p))));
    this.server = server;
    this.log.info({ listen: this.opts.listen, port: this.port, maintenance: this.maintenance }, 'apid serving');
    return this.port;
  }

  /** New server certificate or accepted CAs: used for new connections, open streams stay. */
  updateTLS(tls: ServerTLS): void {
    this.creds.update(tls);
  }

  updatePeerTLS(tls: PeerTLS | undefined): void {
    if (!this.maintenance) this.backends.updatePeerTLS(tls);
  }

  /** Stops accepting calls and waits up to `graceMs` for calls in flight, then ends them. */
  async stop(graceMs = 10_000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.backends.close();
  }

  private register(server: Server, m: MethodInfo): void {
    const type = { unary: 'unary', server_stream: 'serverStream', client_stream: 'clientStream', bidi_stream: 'bidi' }[m.kind];
    const handler = {
      unary: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => this.unary(m, call, cb),
      server_stream: (call: ServerWritableStream<Buffer, Buffer>) => this.serverStream(m, call),
      client_stream: (call: ServerReadableStream<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => this.clientStream(m, call, cb),
      bidi_stream: (call: ServerDuplexStream<Buffer, Buffer>) => this.bidi(m, call),
    }[m.kind];
    server.register(m.path, handler as never, identity, identity, type);
  }

  /**
   * Admits a call and resolves where it goes: an error status to answer with, a fan-out to many targets, or one
   * backend (the local machined or one peer) with the metadata for that hop.
   */
  private dispatch(m: MethodInfo, call: AnyCall): Dispatch {
    let roles: string[];
    try {
      roles = this.maintenance ? [Role.Reader] : identify(call.getAuthContext().sslPeerCertificate, call.metadata).roles;
      authorize(m.path, roles, this.maintenance);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      this.log.debug({ method: m.path, err: e.message }, 'call refused');
      return { kind: 'error', status: { code: e.grpcCode, details: e.message } };
    }
    const r = route(m.path, (k) => call.metadata.get(k), {
      routingDisabled: this.maintenance,
      canForward: this.backends.canForward,
      isLocal: this.isLocal,
    });
    if (r.kind === 'error') return { kind: 'error', status: { code: r.code, details: r.message } };
    if (r.kind === 'many') return { kind: 'many', targets: r.targets, md: this.metadataFor(call, roles, true) };
    try {
      const backend = r.kind === 'local' ? this.backends.local() : this.backends.remote(r.target);
      return { kind: 'single', backend, md: this.metadataFor(call, roles, r.kind === 'one') };
    } catch (e) {
      return { kind: 'error', status: { code: status.INTERNAL, details: (e as Error).message } };
    }
  }

  private metadataFor(call: AnyCall, roles: string[], remote: boolean): Metadata {
    const out = new Metadata();
    for (const [key, values] of Object.entries(call.metadata.toJSON())) {
      if (!forwardable(key)) continue;
      if (remote && (key === 'nodes' || key === 'node' || key === 'proxyfrom')) continue;
      for (const v of values as (string | Buffer)[]) out.add(key, v);
    }
    for (const r of roles) out.add(ROLE_METADATA_KEY, r);
    if (remote) out.set('proxyfrom', call.getHost() || 'unknown');
    return out;
  }

  private options(call: AnyCall): { deadline?: Deadline } {
    const d = call.getDeadline();
    return d === Infinity ? {} : { deadline: d };
  }

  private unary(m: MethodInfo, call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>): void {
    const d = this.dispatch(m, call);
    if (d.kind === 'error') return cb(d.status);
    if (d.kind === 'many') return void this.fanOutUnary(m, call, d.targets, d.md).then((b) => cb(null, b));
    const bc = d.backend.makeUnaryRequest(m.path, identity, identity, call.request, d.md, this.options(call), (err, res) => {
      if (err) cb({ code: err.code, details: err.details, metadata: err.metadata });
      else cb(null, res);
    });
    bc.on('metadata', (h) => call.sendMetadata(h));
    call.on('cancelled', () => bc.cancel());
  }

  /** Calls every target at once and concatenates their labelled answers; a failed node gives an error element. */
  private async fanOutUnary(m: MethodInfo, call: ServerUnaryCall<Buffer, Buffer>, targets: string[], md: Metadata): Promise<Buffer> {
    const parts = await Promise.all(
      targets.map(
        (target) =>
          new Promise<Buffer>((resolve) => {
            let backend: Client;
            try {
              backend = this.backends.remote(target);
            } catch (e) {
              return resolve(unaryErrorResponse(target, { code: status.INTERNAL, message: (e as Error).message }));
            }
            const bc = backend.makeUnaryRequest(m.path, identity, identity, call.request, md, this.options(call), (err, res) => {
              if (err) return resolve(unaryErrorResponse(target, nodeStatus(err)));
              try {
                resolve(labelUnaryResponse(res!, target));
              } catch (e) {
                resolve(unaryErrorResponse(target, { code: status.INTERNAL, message: (e as Error).message }));
              }
            });
            call.on('cancelled', () => bc.cancel());
          }),
      ),
    );
    return Buffer.concat(parts);
  }

  private serverStream(m: MethodInfo, call: ServerWritableStream<Buffer, Buffer>): void {
    const d = this.dispatch(m, call);
    if (d.kind === 'error') return void call.emit('error', d.status);
    if (d.kind === 'many') return this.fanOutStream(m, call, d.targets, d.md);
    const bc = d.backend.makeServerStreamRequest(m.path, identity, identity, call.request, d.md, this.options(call));
    bc.on('metadata', (h) => call.sendMetadata(h));
    pipeToCall(bc, call, (msg) => msg);
    bc.on('error', (err: ServiceError) => call.emit('error', { code: err.code, details: err.details, metadata: err.metadata }));
    bc.on('end', () => call.end());
    call.on('cancelled', () => bc.cancel());
  }

  /** Merges the streams of every target, labelling each message; a failed node contributes one error message. */
  private fanOutStream(m: MethodInfo, call: ServerWritableStream<Buffer, Buffer>, targets: string[], md: Metadata): void {
    let open = targets.length;
    const done = () => {
      if (--open === 0) call.end();
    };
    const streams: ClientReadableStream<Buffer>[] = [];
    call.on('cancelled', () => streams.forEach((s) => s.cancel()));
    for (const target of targets) {
      let backend: Client;
      try {
        backend = this.backends.remote(target);
      } catch (e) {
        call.write(streamErrorMessage(target, { code: status.INTERNAL, message: (e as Error).message }));
        done();
        continue;
      }
      const bc = backend.makeServerStreamRequest(m.path, identity, identity, call.request, md, this.options(call));
      streams.push(bc);
      pipeToCall(bc, call, (msg) => labelStreamMessage(msg, target));
      // 'status' comes once, after the last message, whether the stream failed or not
      bc.on('error', () => {});
      bc.on('status', (st: StatusObject) => {
        if (st.code !== status.OK && !(st.code === status.CANCELLED && call.cancelled)) {
          call.write(streamErrorMessage(target, nodeStatus({ ...st, message: st.details } as ServiceError)));
        }
        done();
      });
    }
  }

  private clientStream(m: MethodInfo, call: ServerReadableStream<Buffer, Buffer>, cb: sendUnaryData<Buffer>): void {
    const d = this.dispatch(m, call);
    if (d.kind === 'error') return cb(d.status);
    if (d.kind === 'many') return cb({ code: status.UNIMPLEMENTED, details: `one-2-many proxying of client streams is not supported for method ${m.path}` });
    const bc: ClientWritableStream<Buffer> = d.backend.makeClientStreamRequest(m.path, identity, identity, d.md, this.options(call), (err, res) =>
      err ? cb({ code: err.code, details: err.details, metadata: err.metadata }) : cb(null, res),
    );
    pipeFromCall(call, bc);
    call.on('cancelled', () => bc.cancel());
  }

  private bidi(m: MethodInfo, call: ServerDuplexStream<Buffer, Buffer>): void {
    const d = this.dispatch(m, call);
    if (d.kind === 'error') return void call.emit('error', d.status);
    if (d.kind === 'many') return void call.emit('error', { code: status.UNIMPLEMENTED, details: `one-2-many proxying is not supported for method ${m.path}` });
    const bc: ClientDuplexStream<Buffer, Buffer> = d.backend.makeBidiStreamRequest(m.path, identity, identity, d.md, this.options(call));
    pipeFromCall(call, bc);
    pipeToCall(bc, call, (msg) => msg);
    bc.on('error', (err: ServiceError) => call.emit('error', { code: err.code, details: err.details, metadata: err.metadata }));
    bc.on('end', () => call.end());
    call.on('cancelled', () => bc.cancel());
  }
}

/** Copies a backend stream's messages into the caller's stream, pausing the backend while the caller is slow. */
function pipeToCall(from: ClientReadableStream<Buffer> | ClientDuplexStream<Buffer, Buffer>, to: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>, map: (b: Buffer) => Buffer): void {
  from.on('data', (msg: Buffer) => {
    if (!to.write(map(msg))) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
}

/** Copies the caller's client-stream messages to the backend, pausing the caller while the backend is slow. */
function pipeFromCall(from: ServerReadableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>, to: ClientWritableStream<Buffer> | ClientDuplexStream<Buffer, Buffer>): void {
  from.on('data', (msg: Buffer) => {
    if (!to.write(msg)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
}
