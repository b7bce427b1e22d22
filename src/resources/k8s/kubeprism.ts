import { KubePrismConfigSpec as ConfigPB, KubePrismEndpointsSpec as EndpointsPB, KubePrismStatusesSpec as StatusesPB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';

export const KubePrismEndpointsType = 'KubePrismEndpoints.kubernetes.talos.dev';
export const KubePrismEndpointsID = 'k8s-cluster';
export const KubePrismConfigType = 'KubePrismConfigs.kubernetes.talos.dev';
export const KubePrismConfigID = 'k8s-loadbalancer-config';
export const KubePrismStatusesType = 'KubePrismStatuses.kubernetes.talos.dev';
export const KubePrismStatusesID = 'k8s-loadbalancer';

/** One place the Kubernetes API server answers. */
export interface KubePrismEndpoint {
  host: string;
  port: number;
}

/** Every place the API server may answer: the cluster endpoint, the local one on control planes, the discovered ones. */
export interface KubePrismEndpointsSpec {
  endpoints: KubePrismEndpoint[];
}

/** Where KubePrism listens and where it sends connections. */
export interface KubePrismConfigSpec {
  host: string;
  port: number;
  endpoints: KubePrismEndpoint[];
}

/** KubePrism's address and whether any endpoint answers. */
export interface KubePrismStatusesSpec {
  host: string;
  healthy: boolean;
}

export const kubePrismEndpointsDefinition = define<KubePrismEndpointsSpec, EndpointsPB>(
  {
    type: KubePrismEndpointsType,
    defaultNamespace: K8sNamespace,
    printColumns: [
      { name: 'Hosts', jsonPath: '{.endpoints[*].host}' },
      { name: 'Ports', jsonPath: '{.endpoints[*].port}' },
    ],
  },
  EndpointsPB,
  (s) => s,
);

export const kubePrismConfigDefinition = define<KubePrismConfigSpec, ConfigPB>(
  {
    type: KubePrismConfigType,
    defaultNamespace: K8sNamespace,
    printColumns: [
      { name: 'Host', jsonPath: '{.host}' },
      { name: 'Port', jsonPath: '{.port}' },
      { name: 'Endpoints', jsonPath: '{.endpoints}' },
    ],
  },
  ConfigPB,
  (s) => ({ host: s.host, port: String(s.port), endpoints: s.endpoints }),
);

export const kubePrismStatusesDefinition = define<KubePrismStatusesSpec, StatusesPB>(
  {
    type: KubePrismStatusesType,
    defaultNamespace: K8sNamespace,
    printColumns: [
      { name: 'HOST', jsonPath: '{.host}' },
      { name: 'HEALTHY', jsonPath: '{.healthy}' },
    ],
  },
  StatusesPB,
  (s) => s,
);
