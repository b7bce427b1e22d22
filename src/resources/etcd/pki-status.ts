import { PKIStatusSpec as PB } from '../../api/gen/resource/definitions/etcd/etcd.js';
import { define } from '../codec.js';
import { EtcdNamespace } from '../namespaces.js';

export const EtcdPKIStatusType = 'PKIStatuses.etcd.talos.dev';
export const EtcdPKIID = 'etcd';

/** etcd's certificate files are written; `version` is the version of the EtcdSecrets they came from. */
export interface EtcdPKIStatusSpec {
  ready: boolean;
  version: string;
}

export const etcdPKIStatusDefinition = define<EtcdPKIStatusSpec, PB>(
  {
    type: EtcdPKIStatusType,
    defaultNamespace: EtcdNamespace,
    printColumns: [
      { name: 'Ready', jsonPath: '{.ready}' },
      { name: 'Secrets Version', jsonPath: '{.version}' },
    ],
  },
  PB,
  (s) => s,
);
