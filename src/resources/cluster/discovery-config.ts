import { ConfigSpec as PB } from '../../api/gen/resource/definitions/cluster/cluster.js';
import { define } from '../codec.js';
import { ConfigNamespace } from '../namespaces.js';

export const DiscoveryConfigType = 'DiscoveryConfigs.cluster.talos.dev';
export const DiscoveryConfigID = 'cluster';

/** Cluster discovery as the config asks for it: which registries, and the discovery service's endpoint and secrets. */
export interface DiscoveryConfigSpec {
  discoveryEnabled: boolean;
  registryKubernetesEnabled: boolean;
  registryServiceEnabled: boolean;
  /** host:port */
  serviceEndpoint: string;
  serviceEndpointInsecure: boolean;
  /** base64 of the cluster secret (32 bytes) */
  serviceEncryptionKey: string;
  serviceClusterID: string;
}

export const discoveryConfigDefinition = define<DiscoveryConfigSpec, PB>(
  {
    type: DiscoveryConfigType,
    defaultNamespace: ConfigNamespace,
    sensitive: true,
    toYAML: (s) => ({
      discoveryEnabled: s.discoveryEnabled,
      registryKubernetesEnabled: s.registryKubernetesEnabled,
      registryServiceEnabled: s.registryServiceEnabled,
      serviceEndpoint: s.serviceEndpoint,
      ...(s.serviceEndpointInsecure ? { serviceEndpointInsecure: true } : {}),
      serviceEncryptionKey: s.serviceEncryptionKey,
      serviceClusterID: s.serviceClusterID,
    }),
  },
  PB,
  (s) => ({ ...s, serviceEncryptionKey: Buffer.from(s.serviceEncryptionKey, 'base64') }),
);
