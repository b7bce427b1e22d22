import { HostnameStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const HostnameStatusType = 'HostnameStatuses.net.talos.dev';
export const HostnameID = 'hostname';

/** The hostname the node really has. */
export interface HostnameStatusSpec {
  hostname: string;
  domainname: string;
}

export const hostnameStatusDefinition = define<HostnameStatusSpec, PB>(
  {
    type: HostnameStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['hostname'],
    printColumns: [
      { name: 'Hostname', jsonPath: '{.hostname}' },
      { name: 'Domainname', jsonPath: '{.domainname}' },
    ],
  },
  PB,
  (s) => s,
);
