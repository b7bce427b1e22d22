import { NodeIPSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define, netIP } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';

export const NodeIPType = 'NodeIPs.kubernetes.talos.dev';

/** The kubelet's node IPs (`--node-ip`): at most one IPv4 and one IPv6 address of the node. */
export interface NodeIPSpec {
  addresses: string[];
}

export const nodeIPDefinition = define<NodeIPSpec, PB>({ type: NodeIPType, defaultNamespace: K8sNamespace }, PB, (s) => ({ addresses: s.addresses.map(netIP) }));
