import { isIP } from 'node:net';
import { Server, ServerCredentials, status, type ServerWritableStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  type Affiliate,
  type AffiliateDeleteRequest,
  type AffiliateDeleteResponse,
  type AffiliateUpdateRequest,
  type AffiliateUpdateResponse,
  ClusterService,
  type HelloRequest,
  type HelloResponse,
  type ListRequest,
  type ListResponse,
  type WatchRequest,
  type WatchResponse,
} from '../api/gen/discovery/server/cluster.js';
import { netIP } from '../resources/codec.js';

/** Limits of what one cluster may store; requests beyond them get InvalidArgument or ResourceExhausted. */
export const LIMITS = {
  idLength: 256,
  dataBytes: 2048,
  endpoints: 64,
  endpointBytes: 32,
  affiliatesPerCluster: 1024,
  maxTTLMs: 30 * 60_000,
};

interface Entry {
  data?: Buffer;
  endpoints: Buffer[];
  expires: number;
}

type Watcher = (resp: WatchResponse) => void;

export class DiscoveryError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

function checkID(what: string, id: string): void {
  if (id === '') throw new DiscoveryError(status.INVALID_ARGUMENT, `${what} is empty`);
  if (id.length > LIMITS.idLength) throw new DiscoveryError(status.INVALID_ARGUMENT, `${what} is longer than ${LIMITS.idLength} characters`);
}

/**
 * The discovery service's state: per cluster id, its affiliates (opaque encrypted data and endpoints), each living
 * until its TTL runs out unless refreshed, and the watchers told of every change.
 */
export class DiscoveryState {
  private readonly clusters = new Map<string, Map<string, Entry>>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(private readonly now: () => number = Date.now) {}

  update(req: AffiliateUpdateRequest): void {
    checkID('cluster_id', req.clusterId);
    checkID('affiliate_id', req.affiliateId);
    if (req.affiliateData && req.affiliateData.length > LIMITS.dataBytes) {
      throw new DiscoveryError(status.INVALID_ARGUMENT, `affiliate_data is ${req.affiliateData.length} bytes, more than ${LIMITS.dataBytes}`);
    }
    const long = req.affiliateEndpoints.find((e) => e.length > LIMITS.endpointBytes);
    if (long) throw new DiscoveryError(status.INVALID_ARGUMENT, `an affiliate endpoint is ${long.length} bytes, more than ${LIMITS.endpointBytes}`);
    const ttlMs = req.ttl ? Number(req.ttl.seconds) * 1000 + Math.floor(req.ttl.nanos / 1e6) : 0;
    if (!(ttlMs > 0)) throw new DiscoveryError(status.INVALID_ARGUMENT, 'ttl must be positive');
    if (ttlMs > LIMITS.maxTTLMs) throw new DiscoveryError(status.INVALID_ARGUMENT, `ttl is longer than ${LIMITS.maxTTLMs / 60_000} minutes`);
    let cluster = this.clusters.get(req.clusterId);
    if (!cluster) this.clusters.set(req.clusterId, (cluster = new Map()));
    let entry = cluster.get(req.affiliateId);
    if (!entry) {
      if (cluster.size >= LIMITS.affiliatesPerCluster) throw new DiscoveryError(status.RESOURCE_EXHAUSTED, `cluster ${req.clusterId} has ${LIMITS.affiliatesPerCluster} affiliates already`);
      cluster.set(req.affiliateId, (entry = { endpoints: [], expires: 0 }));
    }
    if (req.affiliateData !== undefined) entry.data = Buffer.from(req.affiliateData);
    for (const e of req.affiliateEndpoints) {
      if (entry.endpoints.some((x) => x.equals(e))) continue;
      if (entry.endpoints.length >= LIMITS.endpoints) throw new DiscoveryError(status.RESOURCE_EXHAUSTED, `affiliate ${req.affiliateId} has ${LIMITS.endpoints} endpoints already`);
      entry.endpoints.push(Buffer.from(e));
    }
    entry.expires = Math.max(entry.expires, this.now() + ttlMs);
    this.notify(req.clusterId, { affiliates: [this.affiliate(req.affiliateId, entry)], deleted: false });
  }

  delete(req: AffiliateDeleteRequest): void {
    checkID('cluster_id', req.clusterId);
    checkID('affiliate_id', req.affiliateId);
    const cluster = this.clusters.get(req.clusterId);
    if (!cluster?.delete(req.affiliateId)) return;
    if (cluster.size === 0) this.clusters.delete(req.clusterId);
    this.notify(req.clusterId, { affiliates: [{ id: req.affiliateId, data: Buffer.alloc(0), endpoints: [] }], deleted: true });
  }

  list(clusterId: string): Affiliate[] {
    checkID('cluster_id', clusterId);
    return [...(this.clusters.get(clusterId) ?? new Map<string, Entry>()).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, e]) => this.affiliate(id, e));
  }

  /** Sends the cluster's affiliates now, then each change; returns the function that stops the watch. */
  watch(clusterId: string, w: Watcher): () => void {
    checkID('cluster_id', clusterId);
    let set = this.watchers.get(clusterId);
    if (!set) this.watchers.set(clusterId, (set = new Set()));
    set.add(w);
    w({ affiliates: this.list(clusterId), deleted: false });
    return () => {
      set.delete(w);
      if (set.size === 0 && this.watchers.get(clusterId) === set) this.watchers.delete(clusterId);
    };
  }

  /** Removes the affiliates whose TTL ran out and tells the watchers. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const [clusterId, cluster] of this.clusters) {
      for (const [id, e] of cluster) {
        if (e.expires > now) continue;
        cluster.delete(id);
        n++;
        this.notify(clusterId, { affiliates: [{ id, data: Buffer.alloc(0), endpoints: [] }], deleted: true });
      }
      if (cluster.size === 0) this.clusters.delete(clusterId);
    }
    return n;
  }

  get size(): { clusters: number; affiliates: number; watchers: number } {
    let affiliates = 0;
    for (const c of this.clusters.values()) affiliates += c.size;
    let watchers = 0;
    for (const w of this.watchers.values()) watchers += w.size;
    return { clusters: this.clusters.size, affiliates, watchers };
  }

  private affiliate(id: string, e: Entry): Affiliate {
    return { id, data: e.data ?? Buffer.alloc(0), endpoints: [...e.endpoints] };
  }

  private notify(clusterId: string, resp: WatchResponse): void {
    for (const w of this.watchers.get(clusterId) ?? []) w(resp);
  }
}

/** The IP of a grpc-js peer string (`127.0.0.1:5000`, `[::1]:5000`, `ipv4:...`) as 4 or 16 bytes; empty if unknown. */
export function peerIP(peer: string): Buffer {
  const s = peer.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:\d+$/.exec(s) ?? /^([^:]+):\d+$/.exec(s);
  const ip = m?.[1] ?? s;
  return isIP(ip) ? netIP(ip).ip : Buffer.alloc(0);
}

export interface DiscoveryServerOptions {
  /** host:port (`127.65.0.1:3000`); port 0 picks a free one */
  listen: string;
  log: Logger;
  /** how often expired affiliates are removed */
  expireEveryMs?: number;
}

export interface RunningDiscoveryServer {
  /** the port it listens on */
  port: number;
  state: DiscoveryState;
  close(): Promise<void>;
}

function unary<Req, Res>(log: Logger, name: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    try {
      cb(null, fn(call.request, call));
    } catch (e) {
      const code = e instanceof DiscoveryError ? e.grpcCode : status.INTERNAL;
      if (code === status.INTERNAL) log.error({ err: e, method: name }, 'discovery request failed');
      cb({ code, details: (e as Error).message });
    }
  };
}

/**
 * The discovery service over plain HTTP/2 (gRPC without TLS, as a self-hosted service behind no proxy): the
 * `sidero.discovery.server.Cluster` API Talos nodes speak, for clusters that cannot reach the public one.
 */
export async function startDiscoveryServer(o: DiscoveryServerOptions): Promise<RunningDiscoveryServer> {
  const state = new DiscoveryState();
  const log = o.log;
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  server.addService(ClusterService, {
    hello: unary<HelloRequest, HelloResponse>(log, 'Hello', (req, call) => {
      checkID('cluster_id', req.clusterId);
      log.debug({ cluster: req.clusterId, version: req.clientVersion, peer: call.getPeer() }, 'hello');
      return { clientIp: peerIP(call.getPeer()) };
    }),
    affiliateUpdate: unary<AffiliateUpdateRequest, AffiliateUpdateResponse>(log, 'AffiliateUpdate', (req) => {
      state.update(req);
      return {};
    }),
    affiliateDelete: unary<AffiliateDeleteRequest, AffiliateDeleteResponse>(log, 'AffiliateDelete', (req) => {
      state.delete(req);
      return {};
    }),
    list: unary<ListRequest, ListResponse>(log, 'List', (req) => ({ affiliates: state.list(req.clusterId) })),
    watch: (call: ServerWritableStream<WatchRequest, WatchResponse>) => {
      let stop: (() => void) | undefined;
      try {
        stop = state.watch(call.request.clusterId, (resp) => call.write(resp));
      } catch (e) {
        call.destroy(Object.assign(new Error((e as Error).message), { code: e instanceof DiscoveryError ? e.grpcCode : status.INTERNAL }));
        return;
      }
      const end = () => stop?.();
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(new Error(`discovery service: cannot listen on ${o.listen}: ${err.message}`)) : resolve(p))),
  );
  const timer = setInterval(() => {
    const n = state.expire();
    if (n > 0) log.info({ expired: n }, 'affiliates expired');
  }, o.expireEveryMs ?? 10_000);
  timer.unref();
  log.info({ listen: o.listen, port }, 'discovery service listening');
  return {
    port,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.tryShutdown(() => resolve());
        // open watches would hold a graceful shutdown forever
        setTimeout(() => server.forceShutdown(), 1000).unref();
      }),
  };
}
