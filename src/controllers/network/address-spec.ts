import type { Logger } from 'pino';
import { type AddressSpecSpec, AddressSpecType } from '../../resources/network/address-spec.js';
import type { Rtnl } from '../../sys/netlink/rtnl.js';
import { SpecApplierController } from './spec-applier.js';

/** Puts the AddressSpecs' addresses on their links (metal), and takes off the ones it put there that are no longer wanted. */
export class AddressSpecController extends SpecApplierController<AddressSpecSpec> {
  readonly name = 'network.AddressSpecController';
  protected readonly specType = AddressSpecType;
  private readonly applied = new Map<string, { link: string; cidr: string }>();

  protected async apply(nl: Rtnl, specs: Map<string, AddressSpecSpec>, log: Logger): Promise<void> {
    const links = new Set((await nl.links()).map((l) => l.name));
    const present = new Set((await nl.addresses()).map((a) => `${a.linkName}/${a.cidr}`));
    for (const [id, spec] of specs) {
      if (!links.has(spec.linkName)) continue; // the link may come later: a link change brings us back
      if (!present.has(`${spec.linkName}/${spec.address}`)) {
        await nl.addAddress(spec.linkName, spec.address);
        log.info({ address: spec.address, link: spec.linkName }, 'assigned address');
      }
      this.applied.set(id, { link: spec.linkName, cidr: spec.address });
    }
    for (const [id, a] of this.applied) {
      if (specs.has(id)) continue;
      if (links.has(a.link) && present.has(`${a.link}/${a.cidr}`)) {
        await nl.removeAddress(a.link, a.cidr);
        log.info({ address: a.cidr, link: a.link }, 'removed address');
      }
      this.applied.delete(id);
    }
  }
}
