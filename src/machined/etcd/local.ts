import type { State } from '../../cosi/state.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { EtcdSpecID, type EtcdSpecSpec, EtcdSpecType } from '../../resources/etcd/spec.js';
import { EtcdNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { EtcdRootID, type EtcdRootSpec, EtcdRootType } from '../../resources/secrets/etcd-root.js';
import { EtcdSecretsID, type EtcdSecretsSpec, EtcdSecretsType } from '../../resources/secrets/etcd-secrets.js';
import { localClientEndpoint } from './args.js';
import { EtcdClient, type EtcdTLS } from './client.js';

/** Talos's label for PKCS#8 Ed25519 keys, which Node's TLS and OpenSSL do not read; the body is plain PKCS#8. */
export const relabelKey = (pem: string): string => pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');

/** Why etcd cannot be reached from this node yet (no CA, no certificates, no spec). */
export class EtcdNotReadyError extends Error {
  readonly code = 'BRONZE_ETCD_NOT_READY';
}

/** machined's client identity towards etcd: the `talos` client certificate from the etcd CA. */
export async function adminTLS(state: State): Promise<EtcdTLS> {
  const root = (await state.get({ namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID }).catch(() => undefined))?.spec as EtcdRootSpec | undefined;
  if (!root?.etcdCA) throw new EtcdNotReadyError('etcd is not configured on this node (no etcd CA)');
  const secrets = (await state.get({ namespace: SecretsNamespace, type: EtcdSecretsType, id: EtcdSecretsID }).catch(() => undefined))?.spec as EtcdSecretsSpec | undefined;
  if (!secrets) throw new EtcdNotReadyError("etcd's certificates have not been issued yet");
  return {
    ca: fromBase64PEM(root.etcdCA.crt, 'etcd CA'),
    cert: fromBase64PEM(secrets.etcdAdmin.crt, 'etcd admin certificate'),
    key: relabelKey(fromBase64PEM(secrets.etcdAdmin.key ?? '', 'etcd admin key')),
  };
}

/** The node's etcd spec, or an error saying it has none yet. */
export async function etcdSpec(state: State): Promise<EtcdSpecSpec> {
  const spec = (await state.get({ namespace: EtcdNamespace, type: EtcdSpecType, id: EtcdSpecID }).catch(() => undefined))?.spec as EtcdSpecSpec | undefined;
  if (!spec) throw new EtcdNotReadyError('etcd spec is not ready yet');
  return spec;
}

/** A client of the node's own etcd member. */
export async function localEtcdClient(state: State): Promise<EtcdClient> {
  const [tls, spec] = await Promise.all([adminTLS(state), etcdSpec(state)]);
  return new EtcdClient([localClientEndpoint(spec)], tls);
}
