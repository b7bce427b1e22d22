import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import type { ConfigLayerName } from '../../resources/codec.js';
import { NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { type AddressSpecSpec, AddressSpecType } from '../../resources/network/address-spec.js';
import { type HostnameSpecSpec, HostnameSpecType } from '../../resources/network/hostname-spec.js';
import { type LinkSpecSpec, LinkSpecType } from '../../resources/network/link-spec.js';
import { type LinkStatusSpec, LinkStatusType } from '../../resources/network/link-status.js';
import { type OperatorSpecSpec, OperatorSpecType } from '../../resources/network/operator-spec.js';
import { type ResolverSpecSpec, ResolverSpecType } from '../../resources/network/resolver-spec.js';
import { routeID } from '../../resources/network/route-status.js';
import { type RouteSpecSpec, RouteSpecType } from '../../resources/network/route-spec.js';
import { type TimeServerSpecSpec, TimeServerSpecType } from '../../resources/network/time-server-spec.js';
import { DHCP4Client, type DHCPTransport, udpTransport } from './dhcp4-client.js';
import type { Lease } from './dhcp4-packet.js';

const LAYER: ConfigLayerName = 'operator';

interface Running {
  ac: AbortController;
  lease?: Lease;
}

export interface OperatorSpecOptions {
  /** the UDP transport of a link (tests may inject one) */
  transport?: (link: string) => Promise<DHCPTransport>;
  /** the link's hardware address */
  mac?: (link: string) => Promise<Buffer>;
  /** scales DHCP timers (tests) */
  timeScale?: number;
}

/**
 * `network.OperatorSpecController`: runs the operators of OperatorSpecs (DHCPv4) on their links once the links are up,
 * and turns each lease into specs of the `operator` layer: the address, the routes (default route via the router and
 * classless routes, with the operator's metric), resolvers, time servers, the hostname (unless skipped) and the MTU.
 * A lease that expires or an operator that is no longer specified takes its specs away.
 */
export class OperatorSpecController implements Controller {
  readonly name = 'network.OperatorSpecController';
  private readonly running = new Map<string, Running>();

  constructor(private readonly opts: OperatorSpecOptions = {}) {}

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: OperatorSpecType, kind: 'weak' },
      { namespace: NetworkNamespace, type: LinkStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [AddressSpecType, RouteSpecType, ResolverSpecType, TimeServerSpecType, HostnameSpecType, LinkSpecType].map((type) => ({ type, kind: 'shared' as const }));
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    try {
      for await (const _ of r.events()) {
        const specs = new Map((await r.list<OperatorSpecSpec>({ namespace: NetworkNamespace, type: OperatorSpecType })).map((o) => [o.metadata.id, o.spec]));
        const links = new Map((await r.list<LinkStatusSpec>({ namespace: NetworkNamespace, type: LinkStatusType })).map((l) => [l.metadata.id, l.spec]));
        for (const [id, run] of this.running) {
          if (!specs.has(id)) {
            run.ac.abort();
            this.running.delete(id);
          }
        }
        for (const [id, spec] of specs) {
          const link = links.get(spec.linkName);
          if (this.running.has(id) || !link || (spec.requireUp && !link.flags.split(',').includes('UP'))) continue;
          this.start(id, spec, r, signal, log);
        }
        r.startTrackingOutputs();
        for (const [id, run] of this.running) if (run.lease) await this.writeSpecs(r, specs.get(id)!, run.lease);
        await r.cleanupOutputs(...[AddressSpecType, RouteSpecType, ResolverSpecType, TimeServerSpecType, HostnameSpecType, LinkSpecType].map((type) => ({ namespace: NetworkConfigNamespace, type })));
        r.resetRestartBackoff();
      }
    } finally {
      for (const run of this.running.values()) run.ac.abort();
      this.running.clear();
    }
  }

  private start(id: string, spec: OperatorSpecSpec, r: ControllerAdapter, signal: AbortSignal, log: Logger): void {
    const run: Running = { ac: new AbortController() };
    this.running.set(id, run);
    const stop = () => run.ac.abort();
    signal.addEventListener('abort', stop, { once: true });
    void (async () => {
      const transport = await (this.opts.transport ?? udpTransport)(spec.linkName);
      try {
        const mac = await (this.opts.mac ?? linkMAC)(spec.linkName);
        const client = new DHCP4Client({ mac, transport, timeScale: this.opts.timeScale, logger: log.child({ operator: id }) });
        await client.run(
          run.ac.signal,
          (lease) => {
            run.lease = lease;
            log.info({ link: spec.linkName, address: `${lease.address}/${lease.prefixLength}` }, 'DHCP lease');
            r.queueReconcile();
          },
          () => {
            run.lease = undefined;
            r.queueReconcile();
          },
        );
      } catch (e) {
        if (!run.ac.signal.aborted) log.warn({ link: spec.linkName, err: (e as Error).message }, 'DHCP operator failed');
      } finally {
        transport.close();
        signal.removeEventListener('abort', stop);
        if (this.running.get(id) === run && !run.ac.signal.aborted) {
          this.running.delete(id);
          r.queueReconcile();
        }
      }
    })();
  }

  private async writeSpecs(r: ControllerAdapter, op: OperatorSpecSpec, lease: Lease): Promise<void> {
    const put = async <S>(type: string, id: string, spec: S) => {
      await r.modify<S>({ namespace: NetworkConfigNamespace, type, id: `${LAYER}/${id}` }, () => spec, (o) => {
        o.spec = spec;
      });
    };
    const link = op.linkName;
    const cidr = `${lease.address}/${lease.prefixLength}`;
    await put<AddressSpecSpec>(AddressSpecType, `${link}/${cidr}`, { address: cidr, linkName: link, family: 'inet4', scope: 'global', flags: 'permanent', layer: LAYER });
    const route = (dst: string, gateway: string, scope: RouteSpecSpec['scope'] = 'global'): RouteSpecSpec => ({
      family: 'inet4', dst, src: lease.address, gateway, outLinkName: link, table: 'main', priority: op.dhcp4.routeMetric, scope, type: 'unicast', flags: '', protocol: 'dhcp', layer: LAYER,
    });
    const routes = lease.classlessRoutes.length > 0 ? lease.classlessRoutes.map((c) => route(c.prefixLength === 0 ? '' : `${c.destination}/${c.prefixLength}`, c.gateway)) : lease.routers.slice(0, 1).map((gw) => route('', gw));
    for (const rt of routes) await put(RouteSpecType, routeID(rt), rt);
    if (lease.dns.length > 0) await put<ResolverSpecSpec>(ResolverSpecType, 'resolvers', { dnsServers: lease.dns, layer: LAYER, ...(lease.searchDomains.length ? { searchDomains: lease.searchDomains } : {}) });
    if (lease.ntp.length > 0) await put<TimeServerSpecSpec>(TimeServerSpecType, 'timeservers', { timeServers: lease.ntp, layer: LAYER });
    if (lease.hostname && !op.dhcp4.skipHostnameRequest) await put<HostnameSpecSpec>(HostnameSpecType, 'hostname', { hostname: lease.hostname, domainname: lease.domain ?? '', layer: LAYER });
    if (lease.mtu) await put<LinkSpecSpec>(LinkSpecType, link, { name: link, logical: false, up: true, mtu: lease.mtu, kind: '', type: 'ether', parentName: '', layer: LAYER });
  }
}

async function linkMAC(link: string): Promise<Buffer> {
  const text = (await readFile(`/sys/class/net/${link}/address`, 'utf8')).trim();
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}
