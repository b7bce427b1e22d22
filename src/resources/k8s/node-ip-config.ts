import { NodeIPConfigSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';

export const NodeIPConfigType = 'NodeIPConfigs.kubernetes.talos.dev';

/**
 * Where the kubelet's node IP may come from: `validSubnets` (a leading `!` excludes) from
 * `machine.kubelet.nodeIP.validSubnets`, or any address of the service subnets' families; `excludeSubnets` (the pod
 * and service subnets, which never hold a node's address).
 */
export interface NodeIPConfigSpec {
  validSubnets: string[];
  excludeSubnets: string[];
}

export const nodeIPConfigDefinition = define<NodeIPConfigSpec, PB>(
  {
    type: NodeIPConfigType,
    defaultNamespace: K8sNamespace,
    toYAML: (s) => ({ ...(s.validSubnets.length === 0 ? {} : { validSubnets: s.validSubnets }), excludeSubnets: s.excludeSubnets }),
  },
  PB,
  (s) => s,
);
