import { StatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const NetworkStatusType = 'NetworkStatuses.net.talos.dev';
export const NetworkStatusID = 'status';

/** Whether the network is ready in each respect services wait on. */
export interface NetworkStatusSpec {
  addressReady: boolean;
  connectivityReady: boolean;
  hostnameReady: boolean;
  etcFilesReady: boolean;
}

export const networkStatusDefinition = define<NetworkStatusSpec, PB>(
  {
    type: NetworkStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['netstatus', 'netstatuses'],
    printColumns: [
      { name: 'Address', jsonPath: '{.addressReady}' },
      { name: 'Connectivity', jsonPath: '{.connectivityReady}' },
      { name: 'Hostname', jsonPath: '{.hostnameReady}' },
      { name: 'Etc', jsonPath: '{.etcFilesReady}' },
    ],
  },
  PB,
  (s) => s,
);
