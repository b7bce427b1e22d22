import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type KubeletSpecSpec, KubeletSpecType } from '../../resources/k8s/kubelet-spec.js';
import { K8sNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { KubeletSecretsID, type KubeletSecretsSpec, KubeletSecretsType } from '../../resources/secrets/kubelet.js';

/** What the kubelet's files are made from besides its spec: where the cluster is and how to join it. */
export interface KubeletBootstrap {
  /** the cluster's API endpoint (`cluster.controlPlane.endpoint`) */
  endpoint: string;
  /** the cluster CA certificate, base64 of the PEM text as the config holds it (empty when unknown) */
  caCrt: string;
  /** the bootstrap token (`cluster.token`) */
  token: string;
}

/** The bootstrap values of the kubelet's secrets: its endpoint, the accepted CAs as one bundle, the token. */
export function kubeletBootstrapOf(secrets: KubeletSecretsSpec): KubeletBootstrap {
  const bundle = secrets.acceptedCAs.map((c) => {
    const pem = Buffer.from(c.crt, 'base64').toString('utf8');
    return pem.endsWith('\n') ? pem : `${pem}\n`;
  });
  return {
    endpoint: secrets.endpoint,
    caCrt: bundle.length > 0 ? Buffer.from(bundle.join('')).toString('base64') : '',
    token: secrets.bootstrapTokenSecret ? `${secrets.bootstrapTokenID}.${secrets.bootstrapTokenSecret}` : secrets.bootstrapTokenID,
  };
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
 * KubeletSecrets it joins with: endpoint, CAs, bootstrap token) changes, it writes the kubelet's files and starts the
 * service, stopping it first when it runs. A spec that goes away leaves the kubelet as it is (as on Talos).
 */
export class KubeletServiceController implements Controller {
  readonly name = 'k8s.KubeletServiceController';
  private applied: string | undefined;

  constructor(private readonly host: KubeletServiceHost) {}

  inputs(): Input[] {
    return [
      { namespace: K8sNamespace, type: KubeletSpecType, id: KubeletID, kind: 'weak' },
      { namespace: SecretsNamespace, type: KubeletSecretsType, id: KubeletSecretsID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const spec = (await r.getOptional<KubeletSpecSpec>({ namespace: K8sNamespace, type: KubeletSpecType, id: KubeletID }))?.spec;
      const secrets = (await r.getOptional<KubeletSecretsSpec>({ namespace: SecretsNamespace, type: KubeletSecretsType, id: KubeletSecretsID }))?.spec;
      if (!spec || !secrets) continue;
      if (!secrets.endpoint) {
        log.warn('cluster.controlPlane.endpoint is not set in the machine config: the kubelet is not started');
        continue;
      }
      const bootstrap = kubeletBootstrapOf(secrets);
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
