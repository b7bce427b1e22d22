import { StaticPodServerStatusSpec as ServerPB, StaticPodSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';

export const StaticPodType = 'StaticPods.kubernetes.talos.dev';
export const StaticPodServerStatusType = 'StaticPodServerStatuses.kubernetes.talos.dev';
export const StaticPodServerStatusID = 'static-pod-server-status';

/** A pod the kubelet runs on its own (named `<namespace>-<name>`): the Pod manifest as data. */
export interface StaticPodSpec {
  pod: Record<string, unknown>;
}

/** Where the node serves its static pods to the kubelet (`http://127.0.0.1:<port>`). */
export interface StaticPodServerStatusSpec {
  url: string;
}

export const staticPodDefinition = define<StaticPodSpec, PB>({ type: StaticPodType, defaultNamespace: K8sNamespace }, PB, (s) => ({ pod: s.pod }));

export const staticPodServerStatusDefinition = define<StaticPodServerStatusSpec, ServerPB>({ type: StaticPodServerStatusType, defaultNamespace: K8sNamespace }, ServerPB, (s) => s);
