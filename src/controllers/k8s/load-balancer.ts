import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { hostPort } from '../../sys/listen.js';

export interface LoadBalancerOptions {
  host: string;
  /** 0 picks a free port */
  port: number;
  /** how long a connection to an upstream may take before the next one is tried (default 15 s) */
  dialTimeoutMs?: number;
  /** TCP keep-alive on both sides of a proxied connection (default 30 s) */
  keepAliveMs?: number;
  /** how often each upstream is probed (default 20 s) */
  healthIntervalMs?: number;
  /** how long a probe may take (default 15 s) */
  healthTimeoutMs?: number;
  /** called when `healthy()` changes */
  onHealthChange?(healthy: boolean): void;
  logger: Logger;
}

/** Latency tiers of a probe: an upstream answering faster is in a lower tier, and lower tiers are picked first. */
const TIER_FLOORS_MS = [0, 0.1, 1, 10, 100, 1000];

/** The tier of a probe that took `ms`. */
export function latencyTier(ms: number): number {
  for (let i = TIER_FLOORS_MS.length - 1; i >= 0; i--) if (ms >= TIER_FLOORS_MS[i]!) return i;
  return 0;
}

interface Upstream {
  address: string;
  host: string;
  port: number;
  /** undefined until the first probe answers or fails */
  healthy?: boolean;
  tier: number;
}

/** `host:port` or `[v6]:port` into its parts. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw new Error(`upstream "${address}" has no port`);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`upstream "${address}" has an invalid port`);
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

/**
 * A TCP load balancer: connections to its listener are passed to an upstream, the healthy one in the lowest latency
 * tier (round-robin among equals), the next one when dialling fails. Every upstream is probed with a TCP connect
 * on a timer; one never probed yet counts as usable. KubePrism is one of these in front of the API servers.
 */
export class TCPLoadBalancer {
  private server: Server | undefined;
  private readonly upstreams = new Map<string, Upstream>();
  private readonly conns = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private wasHealthy = false;
  private port = 0;

  constructor(private readonly o: LoadBalancerOptions) {}

  /** `host:port` it listens on (the bound port). */
  get endpoint(): string {
    return hostPort(this.o.host, this.port);
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.o.logger.warn({ err: e.message }, 'load balancer listener error'));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    const interval = this.o.healthIntervalMs ?? 20_000;
    this.timer = setInterval(() => void this.probeAll(), interval);
    this.timer.unref();
  }

  /** Replaces the upstreams (`host:port` each); new ones are probed at once. */
  setUpstreams(addresses: string[]): void {
    const want = new Set(addresses);
    for (const a of this.upstreams.keys()) if (!want.has(a)) this.upstreams.delete(a);
    for (const a of want) {
      if (this.upstreams.has(a)) continue;
      const u: Upstream = { address: a, ...splitHostPort(a), tier: 0 };
      this.upstreams.set(a, u);
      void this.probe(u);
    }
    this.reportHealth();
  }

  /** Whether some upstream answered its last probe. */
  healthy(): boolean {
    for (const u of this.upstreams.values()) if (u.healthy) return true;
    return false;
  }

  /** Stops listening and cuts the connections it carries. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) c.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Usable upstreams, best first: healthy (or not yet probed), lowest tier, rotated among equals. */
  private candidates(): Upstream[] {
    const usable = [...this.upstreams.values()].filter((u) => u.healthy !== false);
    if (usable.length === 0) return [...this.upstreams.values()];
    const best = Math.min(...usable.map((u) => u.tier));
    const top = usable.filter((u) => u.tier === best);
    const rest = usable.filter((u) => u.tier !== best).sort((a, b) => a.tier - b.tier);
    const start = this.next++ % top.length;
    return [...top.slice(start), ...top.slice(0, start), ...rest];
  }

  private accept(client: Socket): void {
    this.conns.add(client);
    client.on('close', () => this.conns.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tryNext = (list: Upstream[]) => {
      const u = list.shift();
      if (!u || client.destroyed) return client.destroy();
      const up = connect({ host: u.host, port: u.port });
      const timer = setTimeout(() => up.destroy(new Error('dial timeout')), this.o.dialTimeoutMs ?? 15_000);
      up.once('connect', () => {
        clearTimeout(timer);
        this.conns.add(up);
        up.on('close', () => this.conns.delete(up));
        const keepAlive = this.o.keepAliveMs ?? 30_000;
        up.setKeepAlive(true, keepAlive);
        client.setKeepAlive(true, keepAlive);
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        client.on('close', () => up.destroy());
        up.on('close', () => client.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      up.once('error', (e) => {
        clearTimeout(timer);
        if (up.connecting || !up.remoteAddress) {
          this.o.logger.debug({ upstream: u.address, err: e.message }, 'upstream refused a connection');
          this.mark(u, false);
          tryNext(list);
        }
      });
    };
    tryNext(this.candidates());
  }

  private async probeAll(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => this.probe(u)));
  }

  private probe(u: Upstream): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = performance.now();
      const s = connect({ host: u.host, port: u.port });
      const timer = setTimeout(() => s.destroy(new Error('probe timeout')), this.o.healthTimeoutMs ?? 15_000);
      s.once('connect', () => {
        clearTimeout(timer);
        u.tier = latencyTier(performance.now() - start);
        s.destroy();
        this.mark(u, true);
        resolve();
      });
      s.once('error', () => {
        clearTimeout(timer);
        this.mark(u, false);
        resolve();
      });
    });
  }

  private mark(u: Upstream, healthy: boolean): void {
    // an upstream dropped meanwhile no longer counts
    if (this.upstreams.get(u.address) !== u) return;
    u.healthy = healthy;
    this.reportHealth();
  }

  private reportHealth(): void {
    const h = this.healthy();
    if (h === this.wasHealthy) return;
    this.wasHealthy = h;
    this.o.onHealthChange?.(h);
  }
}
