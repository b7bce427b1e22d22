import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { KubeletSecretsID, type KubeletSecretsSpec, KubeletSecretsType } from '../../resources/secrets/kubelet.js';
import { DEFAULT_KUBEPRISM_PORT } from '../../config/generate/config.js';
import { hostPort } from '../../sys/listen.js';
import { parsedConfig } from '../config/machine-config-cache.js';

type Machine = { type?: string; features?: { kubePrism?: { enabled?: boolean; port?: number } } };
type Cluster = { controlPlane?: { endpoint?: string; localAPIServerPort?: number }; ca?: { crt?: string }; acceptedCAs?: { crt?: string }[]; token?: string };

/**
 * The kubelet's secrets for a config, or a reason why there are none: the endpoint is KubePrism on the node when it
 * is enabled, else the local API server on a control plane, else the cluster endpoint; the accepted CAs are the
 * cluster CA's certificate and `cluster.acceptedCAs`.
 */
export function kubeletSecretsOf(machine: Machine, cluster: Cluster, prismHost = '127.0.0.1'): KubeletSecretsSpec | { error: string } {
  const prism = machine.features?.kubePrism;
  let endpoint: string;
  if (prism?.enabled) endpoint = `https://${hostPort(prismHost, prism.port || DEFAULT_KUBEPRISM_PORT)}`;
  else if (machine.type === 'controlplane' || machine.type === 'init') endpoint = `https://localhost:${cluster.controlPlane?.localAPIServerPort || 6443}`;
  else endpoint = cluster.controlPlane?.endpoint ?? '';
  const acceptedCAs = [cluster.ca?.crt, ...(cluster.acceptedCAs ?? []).map((c) => c.crt)].filter((c): c is string => !!c).map((crt) => ({ crt }));
  if (acceptedCAs.length === 0) return { error: 'missing accepted Kubernetes CAs (.cluster.ca.crt, .cluster.acceptedCAs)' };
  const token = cluster.token ?? '';
  const dot = token.indexOf('.');
  return { endpoint, acceptedCAs, bootstrapTokenID: dot < 0 ? token : token.slice(0, dot), bootstrapTokenSecret: dot < 0 ? '' : token.slice(dot + 1) };
}

/** `secrets.KubeletController`: KubeletSecrets `kubelet` from the active config's machine and cluster sections. */
export class KubeletSecretsController implements Controller {
  readonly name = 'secrets.KubeletController';

  /** `prismHost`: where KubePrism listens (127.0.0.1 on a machine; the node's own address on the process platform) */
  constructor(private readonly prismHost = '127.0.0.1') {}

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: KubeletSecretsType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    let reported: string | undefined;
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const v1 = cfg ? parsedConfig(cfg).v1alpha1 : undefined;
      const machine = v1?.machine as Machine | undefined;
      const cluster = v1?.cluster as Cluster | undefined;
      if (machine && cluster) {
        const spec = kubeletSecretsOf(machine, cluster, this.prismHost);
        if ('error' in spec) {
          // what was there stays, as when Talos's transform fails
          if (reported !== spec.error) log.warn({ err: spec.error }, 'no kubelet secrets');
          reported = spec.error;
          continue;
        }
        reported = undefined;
        await r.modify<KubeletSecretsSpec>({ namespace: SecretsNamespace, type: KubeletSecretsType, id: KubeletSecretsID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: SecretsNamespace, type: KubeletSecretsType });
    }
  }
}
