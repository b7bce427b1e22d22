export { ControlPlaneDiscoveredEndpointsID, endpointDefinition, EndpointType, type EndpointSpec } from './endpoint.js';
export { kubeletConfigDefinition, KubeletConfigType, KubeletID, type KubeletConfigSpec } from './kubelet-config.js';
export { kubeletSpecDefinition, KubeletSpecType, type KubeletSpecSpec } from './kubelet-spec.js';
export {
  kubePrismConfigDefinition,
  KubePrismConfigID,
  KubePrismConfigType,
  kubePrismEndpointsDefinition,
  KubePrismEndpointsID,
  KubePrismEndpointsType,
  kubePrismStatusesDefinition,
  KubePrismStatusesID,
  KubePrismStatusesType,
  type KubePrismConfigSpec,
  type KubePrismEndpoint,
  type KubePrismEndpointsSpec,
  type KubePrismStatusesSpec,
} from './kubeprism.js';
export { nodeIPConfigDefinition, NodeIPConfigType, type NodeIPConfigSpec } from './node-ip-config.js';
export { nodeIPDefinition, NodeIPType, type NodeIPSpec } from './node-ip.js';
export { nodenameDefinition, NodenameID, NodenameType, type NodenameSpec } from './nodename.js';
export {
  staticPodDefinition,
  staticPodServerStatusDefinition,
  StaticPodServerStatusID,
  StaticPodServerStatusType,
  StaticPodType,
  type StaticPodServerStatusSpec,
  type StaticPodSpec,
} from './static-pod.js';
export type { KubeletExtraArgs, KubeletMount } from './mount.js';

import { endpointDefinition } from './endpoint.js';
import { kubeletConfigDefinition } from './kubelet-config.js';
import { kubeletSpecDefinition } from './kubelet-spec.js';
import { kubePrismConfigDefinition, kubePrismEndpointsDefinition, kubePrismStatusesDefinition } from './kubeprism.js';
import { nodeIPConfigDefinition } from './node-ip-config.js';
import { nodeIPDefinition } from './node-ip.js';
import { nodenameDefinition } from './nodename.js';
import { staticPodDefinition, staticPodServerStatusDefinition } from './static-pod.js';

/** The `k8s` namespace's resource types. */
export const k8sDefinitions = [endpointDefinition, kubeletConfigDefinition, kubeletSpecDefinition, kubePrismConfigDefinition, kubePrismEndpointsDefinition, kubePrismStatusesDefinition, nodeIPConfigDefinition, nodeIPDefinition, nodenameDefinition, staticPodDefinition, staticPodServerStatusDefinition];
