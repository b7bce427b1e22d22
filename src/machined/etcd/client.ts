import { type CallOptions, Channel, type ChannelCredentials, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  ClusterClient,
  KVClient,
  MaintenanceClient,
  type Member,
  type MemberAddResponse,
  type StatusResponse,
} from '../../api/gen/etcd/rpc.js';

/** etcd's client TLS material (PEM text): the etcd CA and a client certificate it signed. */
export interface EtcdTLS {
  ca: string;
  cert: string;
  key: string;
}

/** An etcd call that failed: the gRPC status and etcd's own message (`etcdserver: ...`), and the endpoint. */
export class EtcdError extends Error {
  readonly code = 'BRONZE_ETCD_RPC';
  constructor(
    readonly grpcCode: status,
    readonly details: string,
    readonly endpoint: string,
  ) {
    super(details);
    this.name = 'EtcdError';
  }

  /** `etcdserver: member not found` and the like */
  is(text: string): boolean {
    return this.details.includes(text);
  }
}

/** etcd's answers that mean "try another member" rather than "the request is wrong". */
const FAIL_OVER = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.UNKNOWN]);

interface Conn {
  endpoint: string;
  channel: Channel;
  kv: KVClient;
  cluster: ClusterClient;
  maintenance: MaintenanceClient;
}

/** `https://10.0.0.2:2379` or `10.0.0.2:2379` → the gRPC target `10.0.0.2:2379` (IPv6 stays bracketed). */
export function etcdTarget(endpoint: string): string {
  const t = endpoint.replace(/^(https?|unixs?):\/\//, '').replace(/\/+$/, '');
  if (!t) throw new Error(`invalid etcd endpoint "${endpoint}"`);
  return t;
}

/**
 * A client of etcd's v3 gRPC API over mutual TLS, to one or more members. Unary calls go to the endpoints in order
 * and move on to the next one when a member cannot be reached; `at(endpoint)` pins calls to one member (Status,
 * Defragment, MoveLeader are about the member that answers).
 */
export class EtcdClient {
  readonly endpoints: string[];
  private readonly creds: ChannelCredentials;
  private readonly conns: Map<string, Conn>;
  /** a client made by `at()` shares its parent's connections and does not close them */
  private readonly shared: boolean;
  private closed = false;

  constructor(
    endpoints: string[],
    tls: EtcdTLS | EtcdClient,
    private readonly opts: { callTimeoutMs?: number } = {},
  ) {
    if (endpoints.length === 0) throw new Error('no etcd endpoints to connect to');
    this.endpoints = endpoints.map(etcdTarget);
    if (tls instanceof EtcdClient) {
      this.creds = tls.creds;
      this.conns = tls.conns;
      this.shared = true;
    } else {
      this.creds = credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert));
      this.conns = new Map();
      this.shared = false;
    }
  }

  private conn(endpoint: string): Conn {
    if (this.closed) throw new Error('etcd client is closed');
    let c = this.conns.get(endpoint);
    if (!c) {
      const channel = new Channel(endpoint, this.creds, { 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
      const o = { channelOverride: channel };
      c = { endpoint, channel, kv: new KVClient(endpoint, this.creds, o), cluster: new ClusterClient(endpoint, this.creds, o), maintenance: new MaintenanceClient(endpoint, this.creds, o) };
      this.conns.set(endpoint, c);
    }
    return c;
  }

  /** A client for one member only, over this client's connections. */
  at(endpoint: string): EtcdClient {
    return new EtcdClient([endpoint], this, this.opts);
  }

  private call<T>(
    fn: (c: Conn, md: Metadata, o: Partial<CallOptions>, cb: (e: ServiceError | null, r: T) => void) => { cancel(): void },
    opts: { requireLeader?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const tryAt = (i: number, last?: EtcdError): Promise<T> => {
      if (i >= this.endpoints.length) return Promise.reject(last!);
      const c = this.conn(this.endpoints[i]!);
      const md = new Metadata();
      if (opts.requireLeader) md.set('hasleader', 'true');
      return new Promise<T>((resolve, reject) => {
        if (opts.signal?.aborted) return reject(new EtcdError(status.CANCELLED, 'canceled', c.endpoint));
        const deadline = new Date(Date.now() + (opts.timeoutMs ?? this.opts.callTimeoutMs ?? 10_000));
        const call = fn(c, md, { deadline }, (e, r) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (!e) return resolve(r);
          const err = new EtcdError(e.code, e.details || e.message, c.endpoint);
          if (FAIL_OVER.has(e.code) && !opts.signal?.aborted) resolve(tryAt(i + 1, err));
          else reject(err);
        });
        const onAbort = () => call.cancel();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      });
    };
    return tryAt(0);
  }

  async memberList(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ members: Member[]; memberId: string }> {
    const r = await this.call<{ members: Member[]; header?: { memberId: string } }>((c, md, o, cb) => c.cluster.memberList({ linearizable: false }, md, o, cb), { requireLeader: true, ...opts });
    return { members: r.members, memberId: r.header?.memberId ?? '0' };
  }

  async memberAddAsLearner(peerURLs: string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<MemberAddResponse> {
    return this.call<MemberAddResponse>((c, md, o, cb) => c.cluster.memberAdd({ peerURLs, isLearner: true }, md, o, cb), { requireLeader: true, ...opts });
  }

  async memberRemove(id: bigint | string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Member[]> {
    const r = await this.call<{ members: Member[] }>((c, md, o, cb) => c.cluster.memberRemove({ ID: BigInt(id).toString() }, md, o, cb), { requireLeader: true, ...opts });
    return r.members;
  }

  async memberPromote(id: bigint | string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Member[]> {
    const r = await this.call<{ members: Member[] }>((c, md, o, cb) => c.cluster.memberPromote({ ID: BigInt(id).toString() }, md, o, cb), { requireLeader: true, ...opts });
    return r.members;
  }

  /** The status of the first member that answers (pin with `at()` to ask one member). */
  async status(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<StatusResponse> {
    return this.call<StatusResponse>((c, md, o, cb) => c.maintenance.status({}, md, o, cb), opts);
  }

  async alarmList(opts: { signal?: AbortSignal } = {}): Promise<{ memberId: string; alarms: { memberID: string; alarm: AlarmType }[] }> {
    const r = await this.call<{ header?: { memberId: string }; alarms: { memberID: string; alarm: AlarmType }[] }>(
      (c, md, o, cb) => c.maintenance.alarm({ action: AlarmRequest_AlarmAction.GET, memberID: '0', alarm: AlarmType.NONE }, md, o, cb),
      opts,
    );
    return { memberId: r.header?.memberId ?? '0', alarms: r.alarms };
  }

  /** Deactivates every alarm (of every member); answers the alarms that were deactivated. */
  async alarmDisarm(opts: { signal?: AbortSignal } = {}): Promise<{ memberID: string; alarm: AlarmType }[]> {
    const active = await this.alarmList(opts);
    const disarmed: { memberID: string; alarm: AlarmType }[] = [];
    for (const a of active.alarms) {
      const r = await this.call<{ alarms: { memberID: string; alarm: AlarmType }[] }>(
        (c, md, o, cb) => c.maintenance.alarm({ action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm }, md, o, cb),
        opts,
      );
      disarmed.push(...r.alarms);
    }
    return disarmed;
  }

  async defragment(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    await this.call((c, md, o, cb) => c.maintenance.defragment({}, md, o, cb), { timeoutMs: 5 * 60_000, ...opts });
  }

  async moveLeader(targetID: bigint | string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.call((c, md, o, cb) => c.maintenance.moveLeader({ targetID: BigInt(targetID).toString() }, md, o, cb), opts);
  }

  /** A linearizable read: it answers only while the member's cluster has quorum (the service's health check). */
  async checkQuorum(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.call((c, md, o, cb) => c.kv.range({ key: Buffer.from('health'), rangeEnd: Buffer.alloc(0), limit: '0', revision: '0', serializable: false, keysOnly: false, countOnly: false }, md, o, cb), opts);
    } catch (e) {
      // permission denied still went through consensus
      if (e instanceof EtcdError && e.grpcCode === status.PERMISSION_DENIED) return;
      throw e;
    }
  }

  /** The member's whole database, streamed (the first endpoint only: a snapshot is one member's). */
  async *snapshot(signal?: AbortSignal): AsyncGenerator<Buffer> {
    const c = this.conn(this.endpoints[0]!);
    const stream = c.maintenance.snapshot({});
    const onAbort = () => stream.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const m of stream as AsyncIterable<{ blob: Buffer }>) {
        if (m.blob.length > 0) yield Buffer.from(m.blob);
      }
    } catch (e) {
      const se = e as ServiceError;
      if (typeof se.code === 'number') throw new EtcdError(se.code, se.details || se.message, c.endpoint);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    }
  }

  close(): void {
    if (this.shared) return;
    this.closed = true;
    for (const c of this.conns.values()) {
      c.kv.close();
      c.cluster.close();
      c.maintenance.close();
      c.channel.close();
    }
    this.conns.clear();
  }
}
