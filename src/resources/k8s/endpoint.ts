import { EndpointSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define, netIP } from '../codec.js';
import { ControlPlaneNamespace } from '../namespaces.js';

export const EndpointType = 'Endpoints.kubernetes.talos.dev';
/** the control planes' addresses as cluster discovery knows them */
export const ControlPlaneDiscoveredEndpointsID = 'discovery';

/** Where the cluster's control planes are: their addresses (sorted) and host names. */
export interface EndpointSpec {
  addresses: string[];
  hosts: string[];
}

export const endpointDefinition = define<EndpointSpec, PB>(
  {
    type: EndpointType,
    defaultNamespace: ControlPlaneNamespace,
    printColumns: [
      { name: 'Addresses', jsonPath: '{.addresses}' },
      { name: 'Hosts', jsonPath: '{.hosts}' },
    ],
  },
  PB,
  (s) => ({ addresses: s.addresses.map(netIP), hosts: s.hosts }),
);
