import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { KubePrismConfigID, type KubePrismConfigSpec, KubePrismConfigType, KubePrismEndpointsID, type KubePrismEndpointsSpec, KubePrismEndpointsType } from '../../resources/k8s/kubeprism.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { DEFAULT_KUBEPRISM_PORT } from '../../config/generate/config.js';
import { parsedConfig } from '../config/machine-config-cache.js';


type Machine = { features?: { kubePrism?: { enabled?: boolean; port?: number } } };

/**
 * `k8s.KubePrismConfigController`: KubePrismConfig `k8s-loadbalancer-config` while `machine.features.kubePrism` is
 * enabled and the endpoints are known: where KubePrism listens (`host`, 127.0.0.1 on a machine) and the endpoints.
 */
export class KubePrismConfigController implements Controller {
  readonly name = 'k8s.KubePrismConfigController';

  constructor(private readonly host = '127.0.0.1') {}

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: K8sNamespace, type: KubePrismEndpointsType, id: KubePrismEndpointsID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: KubePrismConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const prism = cfg ? (parsedConfig(cfg).v1alpha1?.machine as Machine | undefined)?.features?.kubePrism : undefined;
      const endpoints = await r.getOptional<KubePrismEndpointsSpec>({ namespace: K8sNamespace, type: KubePrismEndpointsType, id: KubePrismEndpointsID });
      if (prism?.enabled && endpoints) {
        const spec: KubePrismConfigSpec = { host: this.host, port: prism.port || DEFAULT_KUBEPRISM_PORT, endpoints: endpoints.spec.endpoints };
        await r.modify<KubePrismConfigSpec>({ namespace: K8sNamespace, type: KubePrismConfigType, id: KubePrismConfigID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: K8sNamespace, type: KubePrismConfigType });
      r.resetRestartBackoff();
    }
  }
}
