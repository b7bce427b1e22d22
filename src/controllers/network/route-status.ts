import type { ScopeName } from '../../resources/codec.js';
import { ROUTE_TABLES, routeID, type RouteStatusSpec, RouteStatusType } from '../../resources/network/route-status.js';
import type { Rtnl } from '../../sys/netlink/rtnl.js';
import { KernelMirrorController } from './kernel-mirror.js';

const SCOPES: Record<string, ScopeName> = { UNIVERSE: 'global', SITE: 'site', LINK: 'link', HOST: 'host', NOWHERE: 'nowhere' };

/** RouteStatus per kernel route (Talos's RouteID), kept up to date from rtnetlink notifications. */
export class RouteStatusController extends KernelMirrorController<RouteStatusSpec> {
  readonly name = 'network.RouteStatusController';
  protected readonly type = RouteStatusType;

  protected async read(nl: Rtnl) {
    const names = new Map((await nl.links()).map((l) => [l.index, l.name]));
    return (await nl.routes()).map((rt) => {
      const spec: RouteStatusSpec = {
        family: rt.family === 'inet6' ? 'inet6' : 'inet4',
        dst: /\/0$/.test(rt.destination) ? '' : rt.destination,
        src: rt.source ?? '',
        gateway: rt.gateway ?? '',
        ...(rt.outLinkIndex ? { outLinkIndex: rt.outLinkIndex, outLinkName: names.get(rt.outLinkIndex) ?? '' } : {}),
        table: Object.entries(ROUTE_TABLES).find(([, n]) => n === rt.table)?.[0] ?? String(rt.table),
        priority: rt.priority,
        scope: SCOPES[rt.scope] ?? 'global',
        type: rt.type.toLowerCase(),
        flags: '',
        protocol: rt.protocol.toLowerCase(),
      };
      return { id: routeID(spec), spec };
    });
  }
}
