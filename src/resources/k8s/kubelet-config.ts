import { KubeletConfigSpec as PB } from '../../api/gen/resource/definitions/k8s/k8s.js';
import { define } from '../codec.js';
import { K8sNamespace } from '../namespaces.js';
import { type KubeletExtraArgs, type KubeletMount, mountProto, mountYAML } from './mount.js';

export const KubeletConfigType = 'KubeletConfigs.kubernetes.talos.dev';
/** The ID of the kubelet's KubeletConfig, KubeletSpec, NodeIPConfig and NodeIP. */
export const KubeletID = 'kubelet';

/** What the machine config says about the kubelet, gathered in one place (the source of its KubeletSpec). */
export interface KubeletConfigSpec {
  image: string;
  clusterDNS: string[];
  clusterDomain: string;
  extraArgs: KubeletExtraArgs;
  extraMounts: KubeletMount[];
  extraConfig: Record<string, unknown>;
  cloudProviderExternal: boolean;
  defaultRuntimeSeccompEnabled: boolean;
  skipNodeRegistration: boolean;
  staticPodListURL: string;
  disableManifestsDirectory: boolean;
  enableFSQuotaMonitoring: boolean;
  /** absent when the config has none */
  credentialProviderConfig?: Record<string, unknown>;
  allowSchedulingOnControlPlane: boolean;
}

const isEmpty = (o: object | undefined) => o === undefined || Object.keys(o).length === 0;

/** Talos's YAML: its key order, the maps and lists left out when empty. */
function toYAML(s: KubeletConfigSpec): Record<string, unknown> {
  return {
    image: s.image,
    clusterDNS: s.clusterDNS,
    clusterDomain: s.clusterDomain,
    ...(isEmpty(s.extraArgs) ? {} : { extraArgs: s.extraArgs }),
    ...(s.extraMounts.length === 0 ? {} : { extraMounts: s.extraMounts.map(mountYAML) }),
    ...(isEmpty(s.extraConfig) ? {} : { extraConfig: s.extraConfig }),
    cloudProviderExternal: s.cloudProviderExternal,
    defaultRuntimeSeccompEnabled: s.defaultRuntimeSeccompEnabled,
    skipNodeRegistration: s.skipNodeRegistration,
    staticPodListURL: s.staticPodListURL,
    disableManifestsDirectory: s.disableManifestsDirectory,
    enableFSQuotaMonitoring: s.enableFSQuotaMonitoring,
    ...(isEmpty(s.credentialProviderConfig) ? {} : { credentialProviderConfig: s.credentialProviderConfig }),
    allowSchedulingOnControlPlane: s.allowSchedulingOnControlPlane,
  };
}

export const kubeletConfigDefinition = define<KubeletConfigSpec, PB>({ type: KubeletConfigType, defaultNamespace: K8sNamespace, sensitive: true, toYAML }, PB, (s) => ({
  image: s.image,
  clusterDns: s.clusterDNS,
  clusterDomain: s.clusterDomain,
  extraMounts: s.extraMounts.map(mountProto),
  extraConfig: isEmpty(s.extraConfig) ? undefined : s.extraConfig,
  cloudProviderExternal: s.cloudProviderExternal,
  defaultRuntimeSeccompEnabled: s.defaultRuntimeSeccompEnabled,
  skipNodeRegistration: s.skipNodeRegistration,
  staticPodListUrl: s.staticPodListURL,
  disableManifestsDirectory: s.disableManifestsDirectory,
  enableFsQuotaMonitoring: s.enableFSQuotaMonitoring,
  credentialProviderConfig: s.credentialProviderConfig,
  allowSchedulingOnControlPlane: s.allowSchedulingOnControlPlane,
  extraArgs: s.extraArgs,
}));
