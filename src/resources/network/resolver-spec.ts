import { ResolverSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define, netIP } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const ResolverSpecType = 'ResolverSpecs.net.talos.dev';

export interface ResolverSpecSpec {
  dnsServers: string[];
  layer: ConfigLayerName;
  searchDomains?: string[];
}

export const resolverSpecDefinition = define<ResolverSpecSpec, PB>(
  {
    type: ResolverSpecType,
    defaultNamespace: NetworkNamespace,
    printColumns: [
      { name: 'Layer', jsonPath: '{.layer}' },
      { name: 'Resolvers', jsonPath: '{.dnsServers}' },
      { name: 'Search Domains', jsonPath: '{.searchDomains}' },
    ],
  },
  PB,
  (s) => ({ dnsServers: s.dnsServers.map(netIP), configLayer: ConfigLayer.number(s.layer), searchDomains: s.searchDomains ?? [] }),
);
