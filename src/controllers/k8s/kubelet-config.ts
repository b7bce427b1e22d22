import type { MachineConfig } from '../../config/document.js';
import { DEFAULT_KUBERNETES_VERSION } from '../../config/generate/config.js';
import { TransformController } from '../../cosi/controller/generic/transform.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { type KubeletConfigSpec, KubeletConfigType, KubeletID } from '../../resources/k8s/kubelet-config.js';
import type { KubeletExtraArgs, KubeletMount } from '../../resources/k8s/mount.js';
import { StaticPodServerStatusID, type StaticPodServerStatusSpec, StaticPodServerStatusType } from '../../resources/k8s/static-pod.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';
import { parsePrefix } from './subnets.js';

/** The kubelet image Talos runs when the config names none. */
export const DefaultKubeletImage = `ghcr.io/siderolabs/kubelet:v${DEFAULT_KUBERNETES_VERSION}`;
export const DefaultServiceSubnet = '10.96.0.0/12';

/** The cluster DNS service address of each service subnet: its tenth address (`10.96.0.0/12` → `10.96.0.10`). */
export function dnsServiceIPs(serviceSubnets: string[]): string[] {
  return serviceSubnets.map((cidr) => {
    const p = parsePrefix(cidr);
    return p.format(p.network + 10n);
  });
}

/** `{ flag: "v" }` or `{ flag: ["a", "b"] }` → each flag with its values. */
export function extraArgsOf(raw: Record<string, unknown> | undefined): KubeletExtraArgs {
  const out: KubeletExtraArgs = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = { values: Array.isArray(v) ? v.map(String) : [String(v)] };
  return out;
}

/** KubeletConfig from a machine config, or undefined when the config has no kubelet to run. */
export function kubeletConfigFrom(cfg: MachineConfig): KubeletConfigSpec | undefined {
  const machine = cfg.v1alpha1?.machine;
  const cluster = cfg.v1alpha1?.cluster;
  const k = machine?.kubelet;
  // a config without `machine.kubelet` runs no kubelet here (Talos would run its default one)
  if (!machine || !cluster || !k) return undefined;
  const extraMounts: KubeletMount[] = (k.extraMounts ?? []).map((m) => ({ destination: m.destination ?? '', type: m.type || 'bind', source: m.source ?? '', options: [...(m.options ?? [])] }));
  return {
    image: k.image || DefaultKubeletImage,
    clusterDNS: k.clusterDNS?.length ? [...k.clusterDNS] : dnsServiceIPs(cluster.network?.serviceSubnets?.length ? cluster.network.serviceSubnets : [DefaultServiceSubnet]),
    clusterDomain: cluster.network?.dnsDomain || 'cluster.local',
    extraArgs: extraArgsOf(k.extraArgs as Record<string, unknown> | undefined),
    extraMounts,
    extraConfig: structuredClone((k.extraConfig ?? {}) as Record<string, unknown>),
    cloudProviderExternal: cluster.externalCloudProvider?.enabled ?? false,
    defaultRuntimeSeccompEnabled: k.defaultRuntimeSeccompProfileEnabled ?? false,
    skipNodeRegistration: k.skipNodeRegistration ?? false,
    staticPodListURL: '',
    disableManifestsDirectory: k.disableManifestsDirectory ?? false,
    enableFSQuotaMonitoring: machine.features?.diskQuotaSupport ?? false,
    ...(k.credentialProviderConfig ? { credentialProviderConfig: structuredClone(k.credentialProviderConfig as Record<string, unknown>) } : {}),
    allowSchedulingOnControlPlane: cluster.allowSchedulingOnControlPlanes ?? cluster.allowSchedulingOnMasters ?? false,
  };
}

/**
 * `k8s.KubeletConfigController`: KubeletConfigs `kubelet` from the active machine config's `machine.kubelet` and the
 * cluster settings the kubelet needs (DNS service addresses and domain, external cloud provider, scheduling on
 * control planes), and `staticPodListURL`, where the node serves its static pods (StaticPodServerStatus).
 */
export class KubeletConfigController extends TransformController<MachineConfigSpec, KubeletConfigSpec, string> {
  constructor() {
    const status = { namespace: K8sNamespace, type: StaticPodServerStatusType, id: StaticPodServerStatusID };
    super({
      name: 'k8s.KubeletConfigController',
      input: { namespace: ConfigNamespace, type: MachineConfigType },
      output: { namespace: K8sNamespace, type: KubeletConfigType },
      mapID: (cfg) => (cfg.metadata.id === ActiveID && kubeletConfigFrom(parsedConfig(cfg)) ? KubeletID : undefined),
      emptySpec: () => ({}) as KubeletConfigSpec,
      extraInputs: [{ ...status, kind: 'weak' }],
      prepare: async (r) => (await r.getOptional<StaticPodServerStatusSpec>(status))?.spec.url ?? '',
      transform: (cfg, out, staticPodListURL) => {
        out.spec = { ...kubeletConfigFrom(parsedConfig(cfg))!, staticPodListURL };
      },
    });
  }
}
