import type { MachineConfig } from '../../config/document.js';
import { TransformController } from '../../cosi/controller/generic/transform.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type NodeIPConfigSpec, NodeIPConfigType } from '../../resources/k8s/node-ip-config.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';
import { DefaultServiceSubnet } from './kubelet-config.js';
import { parsePrefix } from './subnets.js';

export const DefaultPodSubnet = '10.244.0.0/16';

/** NodeIPConfig from a machine config, or undefined when it has no machine or no cluster section. */
export function nodeIPConfigFrom(cfg: MachineConfig): NodeIPConfigSpec | undefined {
  const machine = cfg.v1alpha1?.machine;
  const cluster = cfg.v1alpha1?.cluster;
  if (!machine || !cluster) return undefined;
  const services = cluster.network?.serviceSubnets?.length ? cluster.network.serviceSubnets : [DefaultServiceSubnet];
  const pods = cluster.network?.podSubnets?.length ? cluster.network.podSubnets : [DefaultPodSubnet];
  const configured = machine.kubelet?.nodeIP?.validSubnets ?? [];
  // without subnets in the config: any address of the service subnets' families, in their order
  const validSubnets = configured.length > 0 ? [...configured] : services.map((s) => (parsePrefix(s).family === 6 ? '::/0' : '0.0.0.0/0'));
  // pod and service addresses and the shared (virtual) IPs are never the node's own
  const vips: string[] = [];
  for (const i of machine.network?.interfaces ?? []) {
    if (i.vip?.ip) vips.push(i.vip.ip);
    for (const v of i.vlans ?? []) if (v.vip?.ip) vips.push(v.vip.ip);
  }
  return { validSubnets, excludeSubnets: [...pods, ...services, ...vips] };
}

/**
 * `k8s.NodeIPConfigController`: NodeIPConfigs `kubelet`, where the kubelet's node IP may come from — the subnets of
 * `machine.kubelet.nodeIP.validSubnets` (or every address of the service subnets' families), never the pod or
 * service subnets or a virtual IP.
 */
export class NodeIPConfigController extends TransformController<MachineConfigSpec, NodeIPConfigSpec> {
  constructor() {
    super({
      name: 'k8s.NodeIPConfigController',
      input: { namespace: ConfigNamespace, type: MachineConfigType },
      output: { namespace: K8sNamespace, type: NodeIPConfigType },
      mapID: (cfg) => (cfg.metadata.id === ActiveID && nodeIPConfigFrom(parsedConfig(cfg)) ? KubeletID : undefined),
      emptySpec: () => ({}) as NodeIPConfigSpec,
      transform: (cfg, out) => {
        out.spec = nodeIPConfigFrom(parsedConfig(cfg))!;
      },
    });
  }
}
