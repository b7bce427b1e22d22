import { ConfigSpec as PB } from '../../api/gen/resource/definitions/etcd/etcd.js';
import { define } from '../codec.js';
import { EtcdNamespace } from '../namespaces.js';
import type { EtcdExtraArgs } from './spec.js';

export const EtcdConfigType = 'EtcdConfigs.etcd.talos.dev';
export const EtcdConfigID = 'etcd';

/** etcd settings from the machine config (`cluster.etcd`): subnets to advertise and listen on, image, extra args. */
export interface EtcdConfigSpec {
  advertiseValidSubnets?: string[];
  advertiseExcludeSubnets: string[];
  listenValidSubnets?: string[];
  listenExcludeSubnets: string[];
  image: string;
  extraArgs: EtcdExtraArgs;
}

export const etcdConfigDefinition = define<EtcdConfigSpec, PB>(
  { type: EtcdConfigType, defaultNamespace: EtcdNamespace, printColumns: [{ name: 'Image', jsonPath: '{.image}' }] },
  PB,
  (s) => ({
    advertiseValidSubnets: s.advertiseValidSubnets ?? [],
    advertiseExcludeSubnets: s.advertiseExcludeSubnets,
    listenValidSubnets: s.listenValidSubnets ?? [],
    listenExcludeSubnets: s.listenExcludeSubnets,
    image: s.image,
    extraArgs: s.extraArgs,
  }),
);
