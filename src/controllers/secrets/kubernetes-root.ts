import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { ConfigNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { EtcdRootID, type EtcdRootSpec, EtcdRootType } from '../../resources/secrets/etcd-root.js';
import { KubernetesRootID, type KubernetesRootSpec, KubernetesRootType } from '../../resources/secrets/kubernetes-root.js';
import { parsedConfig } from '../config/machine-config-cache.js';

type Cluster = {
  clusterName?: string;
  controlPlane?: { endpoint?: string; localAPIServerPort?: number };
  apiServer?: { certSANs?: string[] };
  network?: { dnsDomain?: string };
  ca?: { crt?: string; key?: string };
  acceptedCAs?: { crt?: string }[];
  aggregatorCA?: { crt?: string; key?: string };
  serviceAccount?: { key?: string };
  aescbcEncryptionSecret?: string;
  secretboxEncryptionSecret?: string;
  token?: string;
  etcd?: { ca?: { crt?: string; key?: string } };
};

/**
 * `secrets.RootController` for etcd and Kubernetes: on control planes, EtcdRootSecrets `etcd` (the etcd CA) and
 * KubernetesRootSecrets `k8s` (names, endpoints, CAs, service account key, encryption secrets, bootstrap token)
 * from the config; on other machines (or without a config) neither exists.
 */
export class KubernetesRootController implements Controller {
  readonly name = 'secrets.RootController';

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [
      { type: EtcdRootType, kind: 'exclusive' },
      { type: KubernetesRootType, kind: 'exclusive' },
    ];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const type = (await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }))?.spec.type ?? 'unknown';
      const c = cfg ? (parsedConfig(cfg).v1alpha1?.cluster as Cluster | undefined) : undefined;
      if (c && isControlPlane(type)) {
        const pair = (p?: { crt?: string; key?: string }) => (p?.crt ? { crt: p.crt, key: p.key ?? '' } : undefined);
        const etcd: EtcdRootSpec = { etcdCA: pair(c.etcd?.ca) };
        await r.modify<EtcdRootSpec>({ namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID }, () => etcd, (o) => {
          o.spec = etcd;
        });
        const [tokenID, tokenSecret] = (c.token ?? '').split('.');
        const dnsDomain = c.network?.dnsDomain || 'cluster.local';
        const k8s: KubernetesRootSpec = {
          name: c.clusterName ?? '',
          endpoint: c.controlPlane?.endpoint ?? '',
          localEndpoint: `https://localhost:${c.controlPlane?.localAPIServerPort || 6443}`,
          certSANs: [...(c.apiServer?.certSANs ?? [])],
          dnsDomain,
          issuingCA: pair(c.ca),
          serviceAccount: c.serviceAccount?.key ? { key: c.serviceAccount.key } : undefined,
          aggregatorCA: pair(c.aggregatorCA),
          aescbcEncryptionSecret: c.aescbcEncryptionSecret ?? '',
          secretboxEncryptionSecret: c.secretboxEncryptionSecret ?? '',
          bootstrapTokenID: tokenID ?? '',
          bootstrapTokenSecret: tokenSecret ?? '',
          apiServerIPs: [],
          acceptedCAs: (c.acceptedCAs ?? []).filter((x) => x.crt).map((x) => ({ crt: x.crt! })),
        };
        await r.modify<KubernetesRootSpec>({ namespace: SecretsNamespace, type: KubernetesRootType, id: KubernetesRootID }, () => k8s, (o) => {
          o.spec = k8s;
        });
      }
      await r.cleanupOutputs({ namespace: SecretsNamespace, type: EtcdRootType }, { namespace: SecretsNamespace, type: KubernetesRootType });
    }
  }
}
