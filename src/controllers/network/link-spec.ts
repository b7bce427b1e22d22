import type { Logger } from 'pino';
import { type LinkSpecSpec, LinkSpecType } from '../../resources/network/link-spec.js';
import type { Rtnl } from '../../sys/netlink/rtnl.js';
import { SpecApplierController } from './spec-applier.js';

/** Brings links up or down and sets their MTU as the LinkSpecs say (metal); logical links are not created yet. */
export class LinkSpecController extends SpecApplierController<LinkSpecSpec> {
  readonly name = 'network.LinkSpecController';
  protected readonly specType = LinkSpecType;
  private readonly warned = new Set<string>();

  protected async apply(nl: Rtnl, specs: Map<string, LinkSpecSpec>, log: Logger): Promise<void> {
    const links = new Map((await nl.links()).map((l) => [l.name, l]));
    for (const spec of specs.values()) {
      const link = links.get(spec.name);
      if (spec.logical && !link) {
        if (!this.warned.has(spec.name)) log.warn({ link: spec.name, kind: spec.kind }, 'creating logical links is not supported yet: link skipped');
        this.warned.add(spec.name);
        continue;
      }
      if (!link) continue;
      if (spec.mtu > 0 && link.mtu !== spec.mtu) {
        await nl.setMTU(spec.name, spec.mtu);
        log.info({ link: spec.name, mtu: spec.mtu }, 'set link MTU');
      }
      if (link.up !== spec.up) {
        await nl.setLinkUp(spec.name, spec.up);
        log.info({ link: spec.name, up: spec.up }, spec.up ? 'brought link up' : 'brought link down');
      }
    }
  }
}
