import { AddressStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { addressFlagsNumber, define, Family, type FamilyName, netIP, netIPPrefix, Scope, type ScopeName } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const AddressStatusType = 'AddressStatuses.net.talos.dev';

/** An address as the kernel has it; ID `<link>/<address>/<bits>`. */
export interface AddressStatusSpec {
  address: string;
  local?: string;
  broadcast?: string;
  anycast?: string;
  multicast?: string;
  linkIndex: number;
  linkName: string;
  family: FamilyName;
  scope: ScopeName;
  /** comma-separated flag names, e.g. `permanent` */
  flags: string;
  priority: number;
}

export const addressStatusDefinition = define<AddressStatusSpec, PB>(
  {
    type: AddressStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['address', 'addresses'],
    printColumns: [
      { name: 'Address', jsonPath: '{.address}' },
      { name: 'Link', jsonPath: '{.linkName}' },
    ],
  },
  PB,
  (s) => ({
    address: netIPPrefix(s.address),
    local: s.local ? netIP(s.local) : undefined,
    broadcast: s.broadcast ? netIP(s.broadcast) : undefined,
    anycast: s.anycast ? netIP(s.anycast) : undefined,
    multicast: s.multicast ? netIP(s.multicast) : undefined,
    linkIndex: s.linkIndex,
    linkName: s.linkName,
    family: Family.number(s.family),
    scope: Scope.number(s.scope),
    flags: addressFlagsNumber(s.flags),
    priority: s.priority,
  }),
);

export const addressStatusID = (link: string, prefix: string) => `${link}/${prefix}`;
