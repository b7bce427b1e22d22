import { ResolverStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define, netIP } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const ResolverStatusType = 'ResolverStatuses.net.talos.dev';
export const ResolverID = 'resolvers';

export interface ResolverStatusSpec {
  dnsServers: string[];
  searchDomains: string[];
}

export const resolverStatusDefinition = define<ResolverStatusSpec, PB>(
  {
    type: ResolverStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['resolvers'],
    printColumns: [
      { name: 'Resolvers', jsonPath: '{.dnsServers}' },
      { name: 'Search Domains', jsonPath: '{.searchDomains}' },
    ],
  },
  PB,
  (s) => ({ dnsServers: s.dnsServers.map(netIP), searchDomains: s.searchDomains }),
);
