import { isIP } from 'node:net';
import { DEFAULT_ROUTE_METRIC, linkSettings } from '../../config/network-links.js';
import { type RouteSpecSpec, RouteSpecType } from '../../resources/network/route-spec.js';
import { routeID } from '../../resources/network/route-status.js';
import { NetworkConfigController, type NetworkConfigSources } from './network-config.js';

function route(r: { destination: string; gateway: string; source: string; metric: number; mtu: number }, link: string, layer: RouteSpecSpec['layer']): { id: string; spec: RouteSpecSpec } {
  const family = isIP((r.gateway || r.destination).split('/')[0]!) === 6 ? 'inet6' : 'inet4';
  const spec: RouteSpecSpec = {
    family,
    dst: r.destination,
    src: r.source,
    gateway: r.gateway,
    outLinkName: link,
    table: 'main',
    priority: r.metric,
    scope: r.gateway ? 'global' : 'link',
    type: 'unicast',
    flags: '',
    protocol: 'static',
    layer,
    ...(r.mtu ? { mtu: r.mtu } : {}),
  };
  return { id: routeID(spec), spec };
}

/** RouteSpecs: the `ip=` gateway as the default route, and the routes of the machine config's links. */
export class RouteConfigController extends NetworkConfigController<RouteSpecSpec> {
  readonly name = 'network.RouteConfigController';
  protected readonly type = RouteSpecType;

  protected specs({ cmdline, config }: NetworkConfigSources) {
    const out: { id: string; spec: RouteSpecSpec }[] = [];
    for (const s of cmdline) {
      if (s.gateway && s.device) out.push(route({ destination: '', gateway: s.gateway, source: s.client ?? '', metric: DEFAULT_ROUTE_METRIC, mtu: 0 }, s.device, 'cmdline'));
    }
    if (config) for (const l of linkSettings(config)) for (const r of l.routes) out.push(route(r, l.name, 'configuration'));
    return out;
  }
}
