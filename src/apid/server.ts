import { createServer as createTLSServer, type Server as TLSServer, type TLSSocket } from 'node:tls';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ROLE_METADATA_KEY, Role } from '../api/roles.js';
import { type MethodInfo, methods, services } from '../api/method-table.js';
import { statusName } from '../client/errors.js';
import { normalizeKeyPEM } from '../client/tls.js';
import { anyHost } from '../sys/listen.js';
import { AuthError, authorize, callRoles, certificateRoles } from './authz.js';
import { Backends, MAX_MESSAGE_SIZE, type PeerTLS } from './backends.js';
import type { ServerTLS } from './credentials.js';
import { route } from './director.js';
import { cancel, H2_SETTINGS } from './h2.js';
import { H2Connection, type H2Stream, type Headers, type OutgoingHeaders } from '../api/h2/connection.js';
import { FrameReader, finish, frame, frameAll, type GrpcStatus, grpcTimeout, parseGrpcTimeout, RESPONSE_HEADERS, refuseLargeHeaders, statusOf } from '../api/h2/grpc-wire.js';
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

/** Request headers that belong to the transport or to apid, never copied to the next hop. */
const NOT_FORWARDED = new Set(['user-agent', 'content-type', 'te', 'host', 'content-length', ROLE_METADATA_KEY]);

const errorText = (st: GrpcStatus) => `rpc error: code = ${statusName(st.code)} desc = ${st.details}`;
const nodeStatus = (st: GrpcStatus): NodeStatus => ({ code: st.code, message: errorText(st) });

/** How long a fanned-out call waits for one node: a little less than the caller's deadline, so its answer arrives. */
function nodeDeadline(callerMs: number): number {
  return Math.max(1, callerMs - Math.min(500, callerMs / 10));
}

/** The deadline the calls of one fan-out share: one timer that ends every call still running when it fires. */
interface Deadline {
  timer: NodeJS.Timeout;
  expiries: (() => void)[];
}

function startDeadline(ms: number | undefined): Deadline | undefined {
  if (ms === undefined) return undefined;
  const expiries: (() => void)[] = [];
  return { expiries, timer: setTimeout(() => expiries.forEach((expire) => expire()), ms) };
}

/** Why a backend call could not be opened: the connection's state (UNAVAILABLE) or the target itself (INTERNAL). */
function openFailure(e: unknown): GrpcStatus {
  const code = String((e as { code?: unknown }).code ?? '');
  return { code: code.startsWith('ERR_H2') ? status.UNAVAILABLE : status.INTERNAL, details: (e as Error).message };
}

/** The host and port of a listen address (`host:port`, `[v6]:port`, `:port` for every address). */
export function splitListen(listen: string): { host: string; port: number } {
  const a = anyHost(listen);
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(a.slice(i + 1)) };
}

/**
 * apid: the API gateway on :50000, a gRPC proxy at the HTTP/2 level. It terminates TLS, takes the caller's roles from
 * its client certificate (once per connection), checks the method against the role table, and passes the call's
 * bytes through to the local machined or to one peer apid (`node`), or calls many (`nodes`) and labels each node's
 * answer with its metadata without decoding it.
 */
export class Apid {
  private server: TLSServer | undefined;
  private readonly sessions = new Set<H2Connection>();
  private readonly roles = new WeakMap<H2Connection, string[] | AuthError>();
  private readonly backends: Backends;
  private readonly log: Logger;
  private readonly maintenance: boolean;
  private readonly isLocal: (target: string) => boolean;
  private readonly served = new Map<string, MethodInfo>();
  private tls: ServerTLS;
  port = 0;

  constructor(private readonly opts: ApidOptions) {
    this.maintenance = opts.maintenance ?? false;
    this.tls = opts.tls;
    this.backends = new Backends(opts.machinedSocket, opts.peerPort ?? 50000, this.maintenance ? undefined : opts.peerTLS);
    this.log = opts.logger;
    this.isLocal = opts.isLocal ?? (() => false);
    for (const s of services) {
      if (!s.apid) continue;
      for (const def of Object.values(s.definition)) this.served.set(def.path, methods().get(def.path)!);
    }
  }

  private contextOptions(tls: ServerTLS) {
    return { cert: tls.cert, key: normalizeKeyPEM(tls.key), ca: tls.acceptedCAs || undefined, minVersion: 'TLSv1.3' as const };
  }

  async start(): Promise<number> {
    const requireCert = !this.maintenance;
    const server = createTLSServer({
      ...this.contextOptions(this.tls),
      requestCert: requireCert,
      rejectUnauthorized: requireCert,
      ALPNProtocols: ['h2'],
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      // only HTTP/2 is spoken here
      if (socket.alpnProtocol !== 'h2') return socket.destroy();
      const session = new H2Connection(socket, {
        role: 'server',
        ...H2_SETTINGS,
        onStream: (stream, headers) => this.guardedStream(stream, headers),
        onHeadersTooLarge: refuseLargeHeaders,
      });
      this.sessions.add(session);
      session.onClose(() => this.sessions.delete(session));
    });
    server.on('tlsClientError', (e) => this.log.debug({ err: e.message }, 'TLS handshake refused'));
    const { host, port } = splitListen(this.opts.listen);
    this.port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
    this.server = server;
    this.log.info({ listen: this.opts.listen, port: this.port, maintenance: this.maintenance }, 'apid serving');
    return this.port;
  }

  /** New server certificate or accepted CAs: used for new connections, open streams stay. */
  updateTLS(tls: ServerTLS): void {
    this.tls = tls;
    this.server?.setSecureContext(this.contextOptions(tls));
  }

  updatePeerTLS(tls: PeerTLS | undefined): void {
    if (!this.maintenance) this.backends.updatePeerTLS(tls);
  }

  /** Stops accepting calls and waits up to `graceMs` for calls in flight, then ends them. */
  async stop(graceMs = 10_000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sessions) s.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const s of this.sessions) s.destroy();
      await closed;
    }
    this.backends.close();
  }

  /** The caller's roles, worked out once per connection from its certificate. */
  private rolesOf(stream: H2Stream, headers: Headers): string[] {
    if (this.maintenance) return [Role.Reader];
    const session = stream.connection;
    let r = this.roles.get(session);
    if (r === undefined) {
      try {
        r = certificateRoles((session.socket as TLSSocket).getPeerCertificate());
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        r = e;
      }
      this.roles.set(session, r);
    }
    if (r instanceof AuthError) throw r;
    return callRoles(r, headers[ROLE_METADATA_KEY]);
  }

  /** A call that apid fails to take on ends with INTERNAL; the connection and every other call go on. */
  private guardedStream(stream: H2Stream, headers: Headers): void {
    try {
      this.onStream(stream, headers);
    } catch (e) {
      this.log.error({ method: headers[':path'], err: (e as Error).message }, 'call failed in apid');
      finish(stream, { code: status.INTERNAL, details: `apid: ${(e as Error).message}` });
    }
  }

  private onStream(stream: H2Stream, headers: Headers): void {
    const path = String(headers[':path'] ?? '');
    const m = this.served.get(path);
    if (!m) return finish(stream, { code: status.UNIMPLEMENTED, details: `unknown method ${path}` });
    let roles: string[];
    try {
      roles = this.rolesOf(stream, headers);
      authorize(m.path, roles, this.maintenance);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      this.log.debug({ method: m.path, err: e.message }, 'call refused');
      return finish(stream, { code: e.grpcCode, details: e.message });
    }
    const get = (k: string) => {
      const v = headers[k];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const r = route(m.path, get, { routingDisabled: this.maintenance, canForward: this.backends.canForward, isLocal: this.isLocal });
    if (r.kind === 'error') return finish(stream, { code: r.code, details: r.message });
    if (r.kind === 'many') {
      if (m.kind === 'client_stream') return finish(stream, { code: status.UNIMPLEMENTED, details: `one-2-many proxying of client streams is not supported for method ${m.path}` });
      if (m.kind === 'bidi_stream') return finish(stream, { code: status.UNIMPLEMENTED, details: `one-2-many proxying is not supported for method ${m.path}` });
      return this.fanOut(m, stream, headers, roles, r.targets);
    }
    const out = this.nextHopHeaders(m.path, headers, roles, r.kind === 'one');
    let req: H2Stream;
    try {
      req = r.kind === 'local' ? this.backends.local(out) : this.backends.remote(r.target, out);
    } catch (e) {
      return finish(stream, openFailure(e));
    }
    this.passThrough(stream, req);
  }

  /** The headers of the call to the next hop: the caller's metadata, the roles apid worked out, the routing marks. */
  private nextHopHeaders(path: string, headers: Headers, roles: string[], remote: boolean, fanOut = false): OutgoingHeaders {
    const out: OutgoingHeaders = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined || k.startsWith(':') || NOT_FORWARDED.has(k)) continue;
      if (remote && (k === 'nodes' || k === 'node' || k === 'proxyfrom')) continue;
      // a fanned-out call is re-framed by apid: no compression either way
      if (fanOut && (k === 'grpc-encoding' || k === 'grpc-accept-encoding')) continue;
      out[k] = v;
    }
    out[ROLE_METADATA_KEY] = roles;
    if (remote) out.proxyfrom = String(headers[':authority'] ?? 'unknown');
    return out;
  }

  /**
   * One-to-one: the call's bytes go to the backend and the answer's bytes come back as they are; only the message
   * sizes are checked (32 MiB both ways). Cancellation goes through; the deadline travels in grpc-timeout.
   */
  private passThrough(stream: H2Stream, req: H2Stream): void {
    let done = false;
    const fail = (st: GrpcStatus) => {
      if (done) return;
      done = true;
      cancel(req);
      finish(stream, st);
    };
    const tooLarge = (size: number, what: string) => fail({ code: status.RESOURCE_EXHAUSTED, details: `${what} larger than max (${size} vs. ${MAX_MESSAGE_SIZE})` });

    const inbound = new FrameReader(MAX_MESSAGE_SIZE);
    stream.onData = (chunk) => {
      if (done) return;
      const big = inbound.push(chunk);
      if (big !== undefined) return tooLarge(big, 'Received message');
      if (!req.write(chunk)) stream.pause();
    };
    req.onDrain = () => stream.resume();
    stream.onEnd = () => req.end();
    stream.onClose = () => {
      if (!done) {
        done = true;
        cancel(req);
      }
    };

    const outbound = new FrameReader(MAX_MESSAGE_SIZE);
    let trailers: Headers | undefined;
    req.onResponse = (h, endStream) => {
      if (done) return;
      if (endStream) {
        // trailers-only answer
        done = true;
        stream.respond(h, true);
        return;
      }
      // the backend's response headers go on as they are (:status 200, content-type, its metadata)
      stream.respond(h);
    };
    req.onData = (chunk) => {
      if (done) return;
      const big = outbound.push(chunk);
      if (big !== undefined) return tooLarge(big, 'Received message');
      if (!stream.write(chunk)) req.pause();
    };
    stream.onDrain = () => req.resume();
    req.onTrailers = (t) => (trailers = t);
    req.onEnd = () => {
      if (done) return;
      done = true;
      // no status: the connection went away under the call
      const st = statusOf(trailers) ?? { code: status.UNAVAILABLE, details: 'the backend closed the connection' };
      finish(stream, st, trailers);
    };
    req.onClose = (code, reason) => {
      if (!done) fail({ code: status.UNAVAILABLE, details: code === 0 ? 'the backend closed the stream' : reason });
    };
  }

  /**
   * One-to-many: the request (one message) is sent to every target at once. Unary answers are gathered and
   * concatenated into one message; stream messages are passed on as they come; each is labelled with its node, and a
   * node that fails (refused, down, too slow for the caller's deadline) contributes an error element instead.
   */
  private fanOut(m: MethodInfo, stream: H2Stream, headers: Headers, roles: string[], targets: string[]): void {
    const requests: H2Stream[] = [];
    let cancelled = false;
    stream.onClose = () => {
      cancelled = true;
      for (const r of [...requests]) cancel(r);
    };
    let request: Buffer | undefined;
    const reader = new FrameReader(MAX_MESSAGE_SIZE, (msg, compressed) => {
      if (compressed) return finish(stream, { code: status.UNIMPLEMENTED, details: 'compressed messages cannot be fanned out' });
      request ??= msg;
    });
    stream.onData = (chunk) => {
      const big = reader.push(chunk);
      if (big !== undefined) finish(stream, { code: status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${big} vs. ${MAX_MESSAGE_SIZE})` });
    };
    stream.onEnd = () => {
      if (cancelled || stream.headersSent || stream.closed) return;
      if (request === undefined) return finish(stream, { code: status.INTERNAL, details: 'no request message' });
      const callerMs = parseGrpcTimeout(headers['grpc-timeout']);
      const out = this.nextHopHeaders(m.path, headers, roles, true, true);
      const perNodeMs = callerMs === undefined ? undefined : nodeDeadline(callerMs);
      if (perNodeMs !== undefined) out['grpc-timeout'] = grpcTimeout(perNodeMs);
      const body = frame(request);
      if (m.kind === 'unary') this.fanOutUnary(stream, targets, out, body, perNodeMs, requests);
      else this.fanOutStream(stream, targets, out, body, perNodeMs, requests);
    };
  }

  /**
   * Starts the calls of a fan-out, those to peers before those to the local machined: a peer's answer takes two hops
   * and the network, the local one the least time, so the long calls are under way first. The results keep the order
   * of `targets`.
   */
  private dispatch<T>(targets: string[], call: (target: string, i: number, local: boolean) => T): T[] {
    const out = new Array<T>(targets.length);
    const local: number[] = [];
    for (let i = 0; i < targets.length; i++) {
      if (this.isLocal(targets[i]!)) local.push(i);
      else out[i] = call(targets[i]!, i, false);
    }
    for (const i of local) out[i] = call(targets[i]!, i, true);
    return out;
  }

  /**
   * Calls one target (`local`: it names this node, and the local machined answers, not this apid's own listener);
   * `onMessage` gets each answer message; resolves with the node's final status.
   */
  private callNode(target: string, local: boolean, out: OutgoingHeaders, body: Buffer, deadline: Deadline | undefined, requests: H2Stream[], onMessage: (msg: Buffer) => void): Promise<GrpcStatus> {
    return new Promise<GrpcStatus>((resolve) => {
      let req: H2Stream;
      try {
        req = local ? this.backends.local(out) : this.backends.remote(target, out);
      } catch (e) {
        return resolve(openFailure(e));
      }
      requests.push(req);
      let settled = false;
      // `finished`: the node ended the stream itself, nothing is reset
      const settle = (st: GrpcStatus, finished = false) => {
        if (settled) return;
        settled = true;
        if (!finished) cancel(req);
        const i = requests.indexOf(req);
        if (i >= 0) requests.splice(i, 1);
        resolve(st);
      };
      deadline?.expiries.push(() => settle({ code: status.DEADLINE_EXCEEDED, details: 'context deadline exceeded' }));
      let trailers: Headers | undefined;
      const reader = new FrameReader(MAX_MESSAGE_SIZE, (msg, compressed) => {
        if (compressed) settle({ code: status.INTERNAL, details: 'a compressed answer cannot be labelled' });
        else if (!settled) onMessage(msg);
      });
      req.onResponse = (h, endStream) => {
        if (endStream) settle(statusOf(h) ?? { code: status.INTERNAL, details: 'an answer without a status' }, true);
      };
      req.onData = (chunk) => {
        const big = reader.push(chunk);
        if (big !== undefined) settle({ code: status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${big} vs. ${MAX_MESSAGE_SIZE})` });
      };
      req.onTrailers = (t) => (trailers = t);
      req.onEnd = () => settle(statusOf(trailers) ?? { code: status.UNAVAILABLE, details: 'the node closed the connection' }, true);
      req.onClose = (code, reason) => settle({ code: status.UNAVAILABLE, details: code === 0 ? 'the node closed the stream' : reason }, true);
      req.write(body);
      req.end();
    });
  }

  private fanOutUnary(stream: H2Stream, targets: string[], out: OutgoingHeaders, body: Buffer, deadlineMs: number | undefined, requests: H2Stream[]): void {
    const deadline = startDeadline(deadlineMs);
    const answers = targets.map(() => [] as Buffer[]);
    const calls = this.dispatch(targets, (target, i, local) => this.callNode(target, local, out, body, deadline, requests, (msg) => answers[i]!.push(msg)));
    void Promise.all(
      targets.map(async (target, i) => {
        const st = await calls[i]!;
        if (st.code !== status.OK) return unaryErrorResponse(target, nodeStatus(st));
        const got = answers[i]!;
        if (got.length !== 1) return unaryErrorResponse(target, { code: status.INTERNAL, message: `expected one answer, got ${got.length}` });
        try {
          return labelUnaryResponse(got[0]!, target);
        } catch (e) {
          return unaryErrorResponse(target, { code: status.INTERNAL, message: (e as Error).message });
        }
      }),
    ).then((parts) => {
      clearTimeout(deadline?.timer);
      if (stream.closed) return;
      stream.respond(RESPONSE_HEADERS);
      stream.write(frameAll(parts));
      finish(stream, { code: status.OK, details: '' });
    });
  }

  private fanOutStream(stream: H2Stream, targets: string[], out: OutgoingHeaders, body: Buffer, deadlineMs: number | undefined, requests: H2Stream[]): void {
    const deadline = startDeadline(deadlineMs);
    stream.respond(RESPONSE_HEADERS);
    // a slow caller holds every node's stream back until it has caught up
    let paused = false;
    stream.onDrain = () => {
      paused = false;
      for (const r of requests) r.resume();
    };
    const write = (msg: Buffer) => {
      if (stream.closed || stream.localEnded) return;
      if (!stream.write(frame(msg)) && !paused) {
        paused = true;
        for (const r of requests) r.pause();
      }
    };
    const calls = this.dispatch(targets, (target, _i, local) => this.callNode(target, local, out, body, deadline, requests, (msg) => write(labelStreamMessage(msg, target))));
    void Promise.all(
      targets.map(async (target, i) => {
        const st = await calls[i]!;
        if (st.code !== status.OK && !(st.code === status.CANCELLED && stream.closed)) write(streamErrorMessage(target, nodeStatus(st)));
      }),
    ).then(() => {
      clearTimeout(deadline?.timer);
      finish(stream, { code: status.OK, details: '' });
    });
  }
}
