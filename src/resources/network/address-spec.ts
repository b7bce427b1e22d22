import { AddressSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { addressFlagsNumber, ConfigLayer, type ConfigLayerName, define, Family, type FamilyName, netIPPrefix, Scope, type ScopeName } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const AddressSpecType = 'AddressSpecs.net.talos.dev';

/** An address to put on a link; ID `<link>/<address>/<bits>` (with a `<layer>/` prefix in network-config). */
export interface AddressSpecSpec {
  address: string;
  linkName: string;
  family: FamilyName;
  scope: ScopeName;
  flags: string;
  announceWithARP?: boolean;
  priority?: number;
  layer: ConfigLayerName;
}

export const addressSpecDefinition = define<AddressSpecSpec, PB>(
  { type: AddressSpecType, defaultNamespace: NetworkNamespace },
  PB,
  (s) => ({
    address: netIPPrefix(s.address),
    linkName: s.linkName,
    family: Family.number(s.family),
    scope: Scope.number(s.scope),
    flags: addressFlagsNumber(s.flags),
    announceWithArp: s.announceWithARP ?? false,
    configLayer: ConfigLayer.number(s.layer),
    priority: s.priority ?? 0,
  }),
);
