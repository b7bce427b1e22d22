import { NodeAddressSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define, netIPPrefix } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const NodeAddressType = 'NodeAddresses.net.talos.dev';
export const NodeAddressDefaultID = 'default';
export const NodeAddressCurrentID = 'current';
export const NodeAddressRoutedID = 'routed';
export const NodeAddressAccumulativeID = 'accumulative';

/** The node's addresses: `current` (now), `routed` (without link-local), `accumulative` (ever seen), `default`. */
export interface NodeAddressSpec {
  addresses: string[];
  sortAlgorithm: 'v1' | 'v2';
}

export const nodeAddressDefinition = define<NodeAddressSpec, PB>(
  {
    type: NodeAddressType,
    defaultNamespace: NetworkNamespace,
    printColumns: [
      { name: 'Addresses', jsonPath: '{.addresses}' },
      { name: 'SortAlgorithm', jsonPath: '{.sortAlgorithm}' },
    ],
  },
  PB,
  (s) => ({ addresses: s.addresses.map(netIPPrefix), sortAlgorithm: s.sortAlgorithm === 'v2' ? 1 : 0 }),
);
