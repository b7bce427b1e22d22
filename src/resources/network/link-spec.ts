import { LinkSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';
import { LINK_TYPES } from './link-status.js';

export const LinkSpecType = 'LinkSpecs.net.talos.dev';

/** How a link should be: up or down, its MTU (0 = leave it); ID = link name (`<layer>/<name>` in network-config). */
export interface LinkSpecSpec {
  name: string;
  /** a link the node creates (vlan, bond, bridge...), not a physical one */
  logical: boolean;
  up: boolean;
  mtu: number;
  kind: string;
  type: string;
  parentName: string;
  layer: ConfigLayerName;
}

export const linkSpecDefinition = define<LinkSpecSpec, PB>(
  { type: LinkSpecType, defaultNamespace: NetworkNamespace },
  PB,
  (s) => ({ name: s.name, logical: s.logical, up: s.up, mtu: s.mtu, kind: s.kind, type: LINK_TYPES[s.type] ?? 0, parentName: s.parentName, configLayer: ConfigLayer.number(s.layer) }),
);
