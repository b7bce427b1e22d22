import { Scope, type ScopeName } from '../../resources/codec.js';
import { type AddressStatusSpec, addressStatusID, AddressStatusType } from '../../resources/network/address-status.js';
import type { Rtnl } from '../../sys/netlink/rtnl.js';
import { KernelMirrorController } from './kernel-mirror.js';

/** AddressStatus per kernel address (ID `<link>/<address>/<bits>`), kept up to date from rtnetlink notifications. */
export class AddressStatusController extends KernelMirrorController<AddressStatusSpec> {
  readonly name = 'network.AddressStatusController';
  protected readonly type = AddressStatusType;

  protected async read(nl: Rtnl) {
    return (await nl.addresses()).map((a) => ({
      id: addressStatusID(a.linkName, a.cidr),
      spec: {
        address: a.cidr,
        local: a.cidr.split('/')[0],
        linkIndex: a.linkIndex,
        linkName: a.linkName,
        family: a.family === 'inet6' ? ('inet6' as const) : ('inet4' as const),
        scope: (Scope.pairs.find(([, n]) => n === a.scope)?.[0] ?? 'global') as ScopeName,
        flags: '',
        priority: 0,
      },
    }));
  }
}
