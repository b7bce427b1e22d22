import type { Logger } from 'pino';
import { ROUTE_TABLES } from '../../resources/network/route-status.js';
import { type RouteSpecSpec, RouteSpecType } from '../../resources/network/route-spec.js';
import { NetlinkError, type Rtnl } from '../../sys/netlink/rtnl.js';
import { SpecApplierController } from './spec-applier.js';

const destination = (s: Pick<RouteSpecSpec, 'dst' | 'family'>) => s.dst || (s.family === 'inet6' ? '::/0' : '0.0.0.0/0');
const table = (t: string) => ROUTE_TABLES[t] ?? (Number(t) || 254);
/** what the kernel answers for a route whose gateway is not (yet) on the network of any link */
const NOT_YET = new Set(['ENETUNREACH', 'EHOSTUNREACH']);
const key = (dst: string, gateway: string | undefined, priority: number, tbl: number) => `${tbl}/${dst}/${gateway ?? ''}/${priority}`;

/** Installs the RouteSpecs' routes (metal), and removes the ones it installed that are no longer wanted. */
export class RouteSpecController extends SpecApplierController<RouteSpecSpec> {
  readonly name = 'network.RouteSpecController';
  protected readonly specType = RouteSpecType;
  private readonly applied = new Map<string, RouteSpecSpec>();
  /** routes the kernel refused for now because their gateway is not reachable yet (logged once) */
  private readonly waiting = new Set<string>();

  protected async apply(nl: Rtnl, specs: Map<string, RouteSpecSpec>, log: Logger): Promise<void> {
    const links = new Map((await nl.links()).map((l) => [l.name, l]));
    const present = new Set((await nl.routes()).map((r) => key(r.destination, r.gateway, r.priority, r.table)));
    const wanted = new Set<string>();
    for (const [id, spec] of specs) {
      if (spec.outLinkName && !links.get(spec.outLinkName)?.up) continue; // the link may come later
      const k = key(destination(spec), spec.gateway || undefined, spec.priority, table(spec.table));
      wanted.add(k);
      if (!present.has(k)) {
        try {
          await nl.addRoute({ destination: destination(spec), gateway: spec.gateway || undefined, link: spec.outLinkName || undefined, source: spec.src || undefined, priority: spec.priority, table: table(spec.table) });
        } catch (e) {
          // the gateway is not on a link's network yet: the address that makes it reachable comes as a
          // kernel notification, which reconciles again; nothing failed, so no backoff
          if (!(e instanceof NetlinkError && NOT_YET.has(e.errno ?? ''))) throw e;
          if (!this.waiting.has(k)) log.info({ dst: destination(spec), gateway: spec.gateway, errno: e.errno }, 'route waits for its gateway to be reachable');
          this.waiting.add(k);
          continue;
        }
        this.waiting.delete(k);
        log.info({ dst: destination(spec), gateway: spec.gateway, link: spec.outLinkName }, 'created route');
      }
      this.applied.set(id, spec);
    }
    for (const k of this.waiting) if (!wanted.has(k)) this.waiting.delete(k);
    for (const [id, spec] of this.applied) {
      if (specs.has(id)) continue;
      if (present.has(key(destination(spec), spec.gateway || undefined, spec.priority, table(spec.table)))) {
        await nl.removeRoute({ destination: destination(spec), gateway: spec.gateway || undefined, link: spec.outLinkName || undefined, priority: spec.priority, table: table(spec.table) });
        log.info({ dst: destination(spec), gateway: spec.gateway }, 'removed route');
      }
      this.applied.delete(id);
    }
  }
}
