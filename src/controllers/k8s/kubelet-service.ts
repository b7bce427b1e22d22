import type { Logger } from 'pino';
import type { MachineConfig } from '../../config/document.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type KubeletSpecSpec, KubeletSpecType } from '../../resources/k8s/kubelet-spec.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** What the kubelet's files are made from besides its spec: where the cluster is and how to join it. */
export interface KubeletBootstrap {
  /** the cluster's API endpoint (`cluster.controlPlane.endpoint`) */
  endpoint: string;
  /** the cluster CA certificate, base64 of the PEM text as the config holds it (empty when unknown) */
  caCrt: string;
  /** the bootstrap token (`cluster.token`) */
  token: string;
}

/** The bootstrap values of a machine config; undefined when it does not say where the cluster is. */
export function kubeletBootstrap(cfg: MachineConfig): KubeletBootstrap | undefined {
  const cluster = cfg.v1alpha1?.cluster;
  const endpoint = cluster?.controlPlane?.endpoint;
  if (!endpoint) return undefined;
  return { endpoint, caCrt: cluster?.ca?.crt ?? '', token: cluster?.token ?? '' };
}

/** The kubelet service as the controller sees it (machined's supervisor behind it). */
export interface KubeletServiceHost {
  /** writes the kubelet's files: bootstrap kubeconfig, KubeletConfiguration, CA, credential provider config */
  writeFiles(spec: KubeletSpecSpec, bootstrap: KubeletBootstrap): Promise<void>;
  /** loads the service (once) */
  load(): void;
  isRunning(): boolean;
  stop(): Promise<void>;
  /** starts it; resolves once it is starting, not when it is up */
  start(): Promise<void>;
}

/**
 * `k8s.KubeletServiceController`: runs the kubelet while KubeletSpecs `kubelet` exists. Whenever the spec (or the
 * cluster endpoint, CA or bootstrap token it joins with) changes, it writes the kubelet's files and starts the
 * service, stopping it first when it runs. A spec that goes away leaves the kubelet as it is (as on Talos).
 */
export class KubeletServiceController implements Controller {
  readonly name = 'k8s.KubeletServiceController';
  private applied: string | undefined;

  constructor(private readonly host: KubeletServiceHost) {}

  inputs(): Input[] {
    return [
      { namespace: K8sNamespace, type: KubeletSpecType, id: KubeletID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const spec = (await r.getOptional<KubeletSpecSpec>({ namespace: K8sNamespace, type: KubeletSpecType, id: KubeletID }))?.spec;
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      if (!spec || !cfg) continue;
      const bootstrap = kubeletBootstrap(parsedConfig(cfg));
      if (!bootstrap) {
        log.warn('cluster.controlPlane.endpoint is not set in the machine config: the kubelet is not started');
        continue;
      }
      const key = JSON.stringify([spec, bootstrap]);
      if (key === this.applied) continue;
      await this.host.writeFiles(spec, bootstrap);
      this.host.load();
      if (this.host.isRunning()) {
        log.info('kubelet spec changed: restarting the kubelet');
        await this.host.stop();
      }
      await this.host.start();
      this.applied = key;
      r.resetRestartBackoff();
    }
  }
}
