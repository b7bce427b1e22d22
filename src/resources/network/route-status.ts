import { RouteStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define, Family, type FamilyName, netIP, netIPPrefix, Scope, type ScopeName } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const RouteStatusType = 'RouteStatuses.net.talos.dev';

/** Routing tables, route types and protocols by Talos's names (the kernel's numbers). */
export const ROUTE_TABLES: Readonly<Record<string, number>> = { unspec: 0, default: 253, main: 254, local: 255 };
export const ROUTE_TYPES: Readonly<Record<string, number>> = { unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10, xresolve: 11 };
export const ROUTE_PROTOCOLS: Readonly<Record<string, number>> = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16 };

/** A route as the kernel has it; ID as Talos's RouteID (`inet4/<gateway>/<dst>/<priority>`, table and link prefixes). */
export interface RouteStatusSpec {
  family: FamilyName;
  /** CIDR; empty for the default route */
  dst: string;
  src: string;
  gateway: string;
  outLinkIndex?: number;
  outLinkName?: string;
  /** `main`, `local`, or the table number */
  table: string;
  priority: number;
  scope: ScopeName;
  type: string;
  flags: string;
  protocol: string;
  mtu?: number;
}

/** A table, type or protocol name as its kernel number (numbers written as text pass through). */
export const routeEnumNumber = (names: Readonly<Record<string, number>>, v: string) => names[v] ?? (Number.isInteger(Number(v)) ? Number(v) : 0);
const named = routeEnumNumber;

export const routeStatusDefinition = define<RouteStatusSpec, PB>(
  {
    type: RouteStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['route', 'routes'],
    printColumns: [
      { name: 'Destination', jsonPath: '{.dst}' },
      { name: 'Gateway', jsonPath: '{.gateway}' },
      { name: 'Link', jsonPath: '{.outLinkName}' },
      { name: 'Metric', jsonPath: '{.priority}' },
    ],
  },
  PB,
  (s) => ({
    family: Family.number(s.family),
    destination: s.dst ? netIPPrefix(s.dst) : undefined,
    source: s.src ? netIP(s.src) : undefined,
    gateway: s.gateway ? netIP(s.gateway) : undefined,
    outLinkIndex: s.outLinkIndex ?? 0,
    outLinkName: s.outLinkName ?? '',
    table: named(ROUTE_TABLES, s.table),
    priority: s.priority,
    scope: Scope.number(s.scope),
    type: named(ROUTE_TYPES, s.type),
    flags: 0,
    protocol: named(ROUTE_PROTOCOLS, s.protocol),
    mtu: s.mtu ?? 0,
  }),
);

/** Talos's RouteID. */
export function routeID(s: Pick<RouteStatusSpec, 'table' | 'family' | 'dst' | 'gateway' | 'priority' | 'outLinkName'>): string {
  let prefix = s.table !== 'main' ? `${s.table}/` : '';
  if (s.family === 'inet6') prefix += `${s.outLinkName ?? ''}/`;
  return `${prefix}${s.family}/${s.gateway}/${s.dst}/${s.priority}`;
}
