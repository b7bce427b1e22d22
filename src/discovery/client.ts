import { type ClientReadableStream, credentials, Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Affiliate as PbAffiliate } from '../api/gen/discovery/client/affiliate.js';
import { ClusterClient, type HelloResponse, type WatchResponse } from '../api/gen/discovery/server/cluster.js';
import { openAffiliate, sealAffiliate } from './crypto.js';

export interface DiscoveryClientOptions {
  /** host:port of the discovery service */
  endpoint: string;
  /** plain HTTP/2 instead of TLS (an `http://` endpoint) */
  insecure: boolean;
  clusterId: string;
  /** this node's affiliate id: its node identity */
  affiliateId: string;
  /** the cluster secret: encrypts what this node publishes, decrypts what the others do */
  key: Uint8Array;
  /** how long the service keeps this node's data without a refresh; refreshed every half of it */
  ttlMs: number;
  clientVersion: string;
  log: Logger;
  /** called when the set of other affiliates, or this node's public IP, changed */
  onChange(): void;
  /** the first and the longest wait before reconnecting after a failure */
  backoffMs?: { min: number; max: number };
}

/**
 * A node's side of the discovery service: it publishes this node's affiliate (encrypted), keeps it alive, and
 * follows the cluster's other affiliates through a watch, reconnecting with backoff when the service goes away.
 */
export class DiscoveryClient {
  private local?: Buffer;
  private deleteLocal = false;
  /** settled once the service confirmed this node's removal */
  private deleted?: { promise: Promise<void>; resolve: () => void };
  private readonly others = new Map<string, PbAffiliate>();
  private publicIP = Buffer.alloc(0);
  private wake?: () => void;
  private dirty = false;

  constructor(private readonly o: DiscoveryClientOptions) {}

  /** What this node publishes from now on (sent at once when connected). */
  setLocalData(affiliate: PbAffiliate): void {
    // a node being reset publishes nothing again
    if (this.deleteLocal) return;
    this.local = sealAffiliate(this.o.key, PbAffiliate.encode(affiliate).finish());
    this.poke();
  }

  /**
   * Removes this node from the service (as a node being reset does), and keeps it out: nothing is published from
   * now on. Resolves once the service confirmed the removal (it stays pending while the service cannot be reached).
   */
  deleteLocalAffiliate(): Promise<void> {
    if (!this.deleted) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.deleted = { promise, resolve };
    }
    this.deleteLocal = true;
    this.poke();
    return this.deleted.promise;
  }

  /** The other nodes' affiliates, by affiliate id. */
  affiliates(): Map<string, PbAffiliate> {
    return new Map(this.others);
  }

  /** The address the service saw this node come from. */
  getPublicIP(): Buffer {
    return this.publicIP;
  }

  private poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { min, max } = this.o.backoffMs ?? { min: 1000, max: 30_000 };
    let backoff = min;
    while (!signal.aborted) {
      const client = new ClusterClient(this.o.endpoint, this.o.insecure ? credentials.createInsecure() : credentials.createSsl(), {
        'grpc.keepalive_time_ms': Math.max(10_000, this.o.ttlMs / 10),
      });
      let watch: ClientReadableStream<WatchResponse> | undefined;
      try {
        await this.session(client, signal, (w) => (watch = w), () => (backoff = min));
      } catch (e) {
        if (!signal.aborted) this.o.log.warn({ err: (e as Error).message, endpoint: this.o.endpoint }, 'discovery service connection failed');
      } finally {
        watch?.cancel();
        client.close();
      }
      if (signal.aborted) break;
      await this.sleep(backoff, signal);
      backoff = Math.min(max, backoff * 2);
    }
  }

  private async session(client: ClusterClient, signal: AbortSignal, setWatch: (w: ClientReadableStream<WatchResponse>) => void, connected: () => void): Promise<void> {
    const deadline = () => ({ deadline: Date.now() + 10_000 });
    const hello = await unary<HelloResponse>((cb) => client.hello({ clusterId: this.o.clusterId, clientVersion: this.o.clientVersion }, meta(), deadline(), cb));
    if (!this.publicIP.equals(hello.clientIp)) {
      this.publicIP = Buffer.from(hello.clientIp);
      this.o.onChange();
    }
    if (hello.redirect?.endpoint) this.o.log.warn({ redirect: hello.redirect.endpoint }, 'the discovery service asks to use another endpoint: not followed');
    let failure: Error | undefined;
    let snapshot = true;
    const watch = client.watch({ clusterId: this.o.clusterId }, meta());
    setWatch(watch);
    watch.on('data', (resp: WatchResponse) => {
      this.apply(resp, snapshot);
      snapshot = false;
      connected();
    });
    watch.on('error', (e: Error) => {
      failure ??= e;
      this.wake?.();
    });
    watch.on('end', () => {
      failure ??= new Error('the discovery service ended the watch');
      this.wake?.();
    });
    this.dirty = true;
    let refreshAt = 0;
    while (!signal.aborted && !failure) {
      if (this.dirty || Date.now() >= refreshAt) {
        this.dirty = false;
        await this.refresh(client);
        refreshAt = Date.now() + this.o.ttlMs / 2;
        // data set while the refresh was under way is sent before sleeping
        continue;
      }
      await this.sleep(Math.max(0, refreshAt - Date.now()), signal);
    }
    if (failure && !signal.aborted) throw failure;
  }

  private async refresh(client: ClusterClient): Promise<void> {
    const deadline = { deadline: Date.now() + 30_000 };
    const ids = { clusterId: this.o.clusterId, affiliateId: this.o.affiliateId };
    if (this.deleteLocal) {
      await unary((cb) => client.affiliateDelete(ids, meta(), deadline, cb));
      this.deleted?.resolve();
      return;
    }
    if (!this.local) return;
    const ttl = { seconds: String(Math.floor(this.o.ttlMs / 1000)), nanos: (this.o.ttlMs % 1000) * 1e6 };
    await unary((cb) => client.affiliateUpdate({ ...ids, affiliateData: this.local, affiliateEndpoints: [], ttl }, meta(), deadline, cb));
  }

  private apply(resp: WatchResponse, snapshot: boolean): void {
    const before = JSON.stringify([...this.others.entries()].map(([k, v]) => [k, PbAffiliate.toJSON(v)]));
    if (snapshot) this.others.clear();
    for (const a of resp.affiliates) {
      if (a.id === this.o.affiliateId) continue;
      if (resp.deleted) {
        this.others.delete(a.id);
        continue;
      }
      if (a.data.length === 0) continue;
      try {
        this.others.set(a.id, PbAffiliate.decode(openAffiliate(this.o.key, a.data)));
      } catch (e) {
        this.o.log.warn({ affiliate: a.id, err: (e as Error).message }, 'discovered affiliate data unreadable (another cluster secret?)');
      }
    }
    const after = JSON.stringify([...this.others.entries()].map(([k, v]) => [k, PbAffiliate.toJSON(v)]));
    if (before !== after) this.o.onChange();
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }
}

function meta(): Metadata {
  return new Metadata();
}

function unary<T>(start: (cb: (err: Error | null, res: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}
