import { EtcdCertsSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const EtcdSecretsType = 'EtcdSecrets.secrets.talos.dev';
export const EtcdSecretsID = 'etcd';

/** etcd's certificates from the etcd CA: server, peer, and clients for Talos and the kube-apiserver. */
export interface EtcdSecretsSpec {
  etcd: PEMPair;
  etcdPeer: PEMPair;
  etcdAdmin: PEMPair;
  etcdAPIServer: PEMPair;
}

export const etcdSecretsDefinition = define<EtcdSecretsSpec, PB>({ type: EtcdSecretsType, defaultNamespace: SecretsNamespace, sensitive: true }, PB, (s) => ({
  etcd: pemPair(s.etcd),
  etcdPeer: pemPair(s.etcdPeer),
  etcdAdmin: pemPair(s.etcdAdmin),
  etcdApiServer: pemPair(s.etcdAPIServer),
}));
