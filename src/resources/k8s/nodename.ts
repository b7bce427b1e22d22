import { NodenameSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';

export const NodenameType = 'Nodenames.kubernetes.talos.dev';
export const NodenameID = 'nodename';

/** The name the node registers with in Kubernetes; `hostnameVersion` is the version of the HostnameStatus it came from. */
export interface NodenameSpec {
  nodename: string;
  hostnameVersion: string;
  skipNodeRegistration: boolean;
}

export const nodenameDefinition = define<NodenameSpec, PB>(
  { type: NodenameType, defaultNamespace: K8sNamespace, printColumns: [{ name: 'Nodename', jsonPath: '{.nodename}' }] },
  PB,
  (s) => s,
);
