import { RouteSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define, Family, netIP, netIPPrefix, Scope } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';
import { ROUTE_PROTOCOLS, ROUTE_TABLES, ROUTE_TYPES, routeEnumNumber, type RouteStatusSpec } from './route-status.js';

export const RouteSpecType = 'RouteSpecs.net.talos.dev';

/** A route to install; ID as Talos's RouteID (with a `<layer>/` prefix in network-config). */
export interface RouteSpecSpec extends Omit<RouteStatusSpec, 'outLinkIndex' | 'outLinkName'> {
  outLinkName: string;
  layer: ConfigLayerName;
}

const named = routeEnumNumber;

export const routeSpecDefinition = define<RouteSpecSpec, PB>(
  { type: RouteSpecType, defaultNamespace: NetworkNamespace },
  PB,
  (s) => ({
    family: Family.number(s.family),
    destination: s.dst ? netIPPrefix(s.dst) : undefined,
    source: s.src ? netIP(s.src) : undefined,
    gateway: s.gateway ? netIP(s.gateway) : undefined,
    outLinkName: s.outLinkName,
    table: named(ROUTE_TABLES, s.table),
    priority: s.priority,
    scope: Scope.number(s.scope),
    type: named(ROUTE_TYPES, s.type),
    flags: 0,
    protocol: named(ROUTE_PROTOCOLS, s.protocol),
    configLayer: ConfigLayer.number(s.layer),
    mtu: s.mtu ?? 0,
  }),
);
