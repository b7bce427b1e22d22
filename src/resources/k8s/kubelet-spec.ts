import { KubeletSpecSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';
import { type KubeletMount, mountProto, mountYAML } from './mount.js';

export const KubeletSpecType = 'KubeletSpecs.kubernetes.talos.dev';

/**
 * What the kubelet service runs: the image, the full argument list, extra mounts, the node name its certificates must
 * carry (empty when `--hostname-override` comes from the config), its KubeletConfiguration and credential provider
 * configuration as data. Its existence starts the kubelet; each change restarts it.
 */
export interface KubeletSpecSpec {
  image: string;
  args: string[];
  extraMounts: KubeletMount[];
  expectedNodename: string;
  config: Record<string, unknown>;
  credentialProviderConfig?: Record<string, unknown>;
}

function toYAML(s: KubeletSpecSpec): Record<string, unknown> {
  return {
    image: s.image,
    ...(s.args.length === 0 ? {} : { args: s.args }),
    ...(s.extraMounts.length === 0 ? {} : { extraMounts: s.extraMounts.map(mountYAML) }),
    ...(s.expectedNodename === '' ? {} : { expectedNodename: s.expectedNodename }),
    config: s.config,
    ...(s.credentialProviderConfig === undefined || Object.keys(s.credentialProviderConfig).length === 0 ? {} : { credentialProviderConfig: s.credentialProviderConfig }),
  };
}

export const kubeletSpecDefinition = define<KubeletSpecSpec, PB>({ type: KubeletSpecType, defaultNamespace: K8sNamespace, sensitive: true, toYAML }, PB, (s) => ({
  image: s.image,
  args: s.args,
  extraMounts: s.extraMounts.map(mountProto),
  expectedNodename: s.expectedNodename,
  config: s.config,
  credentialProviderConfig: s.credentialProviderConfig,
}));
