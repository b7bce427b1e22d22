import { EtcdRootSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const EtcdRootType = 'EtcdRootSecrets.secrets.talos.dev';
export const EtcdRootID = 'etcd';

/** The etcd CA (`cluster.etcd.ca`), on control planes. */
export interface EtcdRootSpec {
  etcdCA?: PEMPair;
}

export const etcdRootDefinition = define<EtcdRootSpec, PB>({ type: EtcdRootType, defaultNamespace: SecretsNamespace, sensitive: true }, PB, (s) => ({ etcdCa: pemPair(s.etcdCA) }));
