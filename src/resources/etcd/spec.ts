import { SpecSpec as PB } from '../../api/gen/resource/definitions/etcd/etcd.js';
import { define, netIP } from '../codec.js';
import { EtcdNamespace } from '../namespaces.js';

export const EtcdSpecType = 'EtcdSpecs.etcd.talos.dev';
export const EtcdSpecID = 'etcd';

/** Extra etcd arguments: each flag with its values (`--flag=value` once per value). */
export type EtcdExtraArgs = Record<string, { values: string[] }>;

/** What the etcd service runs with: the member name, the addresses it advertises and listens on, extra args. */
export interface EtcdSpecSpec {
  name: string;
  advertisedAddresses: string[];
  listenPeerAddresses: string[];
  listenClientAddresses: string[];
  image: string;
  extraArgs: EtcdExtraArgs;
}

export const etcdSpecDefinition = define<EtcdSpecSpec, PB>(
  {
    type: EtcdSpecType,
    defaultNamespace: EtcdNamespace,
    printColumns: [
      { name: 'Name', jsonPath: '{.name}' },
      { name: 'AdvertisedAddresses', jsonPath: '{.advertisedAddresses}' },
      { name: 'ListenPeerAddresses', jsonPath: '{.listenPeerAddresses}' },
      { name: 'ListenClientAddresses', jsonPath: '{.listenClientAddresses}' },
    ],
  },
  PB,
  (s) => ({
    name: s.name,
    advertisedAddresses: s.advertisedAddresses.map(netIP),
    listenPeerAddresses: s.listenPeerAddresses.map(netIP),
    listenClientAddresses: s.listenClientAddresses.map(netIP),
    image: s.image,
    extraArgs: s.extraArgs,
  }),
);
