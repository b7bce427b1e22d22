import { HostnameSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const HostnameSpecType = 'HostnameSpecs.net.talos.dev';

/** The hostname to set (in `network`), or one layer's wish for it (in `network-config`). */
export interface HostnameSpecSpec {
  hostname: string;
  domainname: string;
  layer: ConfigLayerName;
}

export const hostnameSpecDefinition = define<HostnameSpecSpec, PB>(
  { type: HostnameSpecType, defaultNamespace: NetworkNamespace },
  PB,
  (s) => ({ hostname: s.hostname, domainname: s.domainname, configLayer: ConfigLayer.number(s.layer) }),
);
