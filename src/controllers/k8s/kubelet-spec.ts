import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { isControlPlane, MachineTypeID, type MachineTypeName, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { type KubeletConfigSpec, KubeletConfigType, KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type KubeletSpecSpec, KubeletSpecType } from '../../resources/k8s/kubelet-spec.js';
import type { KubeletExtraArgs } from '../../resources/k8s/mount.js';
import { type NodeIPSpec, NodeIPType } from '../../resources/k8s/node-ip.js';
import { NodenameID, type NodenameSpec, NodenameType } from '../../resources/k8s/nodename.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';

/** Where the kubelet's files are, as the kubelet sees them (its container mounts them at the same paths). */
export interface KubeletPaths {
  /** /etc/kubernetes */
  etcKubernetes: string;
  /** /var/lib/kubelet */
  varLibKubelet: string;
  /** the CRI containerd's socket */
  criAddress: string;
}

export const kubeletFiles = (p: KubeletPaths) => ({
  config: join(p.etcKubernetes, 'kubelet.yaml'),
  bootstrapKubeconfig: join(p.etcKubernetes, 'bootstrap-kubeconfig'),
  kubeconfig: join(p.etcKubernetes, 'kubeconfig-kubelet'),
  ca: join(p.etcKubernetes, 'pki', 'ca.crt'),
  manifests: join(p.etcKubernetes, 'manifests'),
  credentialProviderConfig: join(p.etcKubernetes, 'kubelet-credentialproviderconfig.yaml'),
  pki: join(p.varLibKubelet, 'pki'),
});

/** Where the kubelet looks for image credential provider programs. */
export const CredentialProviderBinDir = '/usr/local/lib/kubelet/credentialproviders';

export class KubeletSpecError extends Error {
  readonly code = 'BRONZE_KUBELET_SPEC';
}

/** Flags the node owns: `extraArgs` may not set them. */
const DENIED_ARGS = ['bootstrap-kubeconfig', 'kubeconfig', 'container-runtime', 'container-runtime-endpoint', 'config', 'cert-dir'];

/** KubeletConfiguration fields the node owns: `extraConfig` may not set them. */
export const ProtectedConfigFields = [
  'apiVersion',
  'authentication',
  'authorization',
  'cgroupRoot',
  'kind',
  'kubeletCgroups',
  'port',
  'protectKernelDefaults',
  'resolvConf',
  'rotateCertificates',
  'systemCgroups',
  'staticPodPath',
  'seccompDefault',
];

/** `ghcr.io/siderolabs/kubelet:v1.36.3` → [1, 36]; undefined when the tag is not a version. */
export function kubeletVersion(image: string): [number, number] | undefined {
  const ref = image.split('@')[0]!;
  const colon = ref.lastIndexOf(':');
  if (colon < 0 || ref.slice(colon).includes('/')) return undefined;
  const m = /^v?(\d+)\.(\d+)/.exec(ref.slice(colon + 1));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Kubelets from 1.27 read the CRI endpoint from their configuration; older ones need the flag. Unknown versions are new. */
function configHasRuntimeEndpoint(image: string): boolean {
  const v = kubeletVersion(image);
  return !v || v[0] > 1 || (v[0] === 1 && v[1] >= 27);
}

/**
 * The node's flags with `extra` over them (a key written with `_` counts as its `-` form); keys in `denied` may not
 * come from `extra`.
 */
export function mergeArgs(base: Record<string, string[]>, extra: KubeletExtraArgs, denied: string[] = DENIED_ARGS): Map<string, string[]> {
  const merged = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(extra)) {
    const key = k.replace(/_/g, '-');
    if (denied.includes(key)) throw new KubeletSpecError(`extra arg "${key}" is not allowed`);
    merged.set(key, [...v.values]);
  }
  return merged;
}

/** `--key=value` flags sorted by key, one per value. */
export const formatArgs = (args: Map<string, string[]>): string[] =>
  [...args.keys()].sort().flatMap((k) => args.get(k)!.map((v) => `--${k}=${v}`));

/** A JSON-like value with every object's keys in order (as Talos's maps print). */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => [k, sortedKeys(o[k])]),
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The kubelet's KubeletConfiguration as data: `extraConfig` first (protected fields refused), then the fields the
 * node always sets (authentication against the cluster CA, webhook authorization, cgroups, port, certificate
 * rotation, the static pod directory), then defaults for what `extraConfig` left unset (address, OOM score, cluster
 * DNS and domain, system reservations, JSON logs, shutdown grace periods, TLS 1.3). A node in a container does not
 * ask the kubelet to protect kernel defaults (it cannot change them).
 */
export function kubeletConfiguration(cfg: KubeletConfigSpec, machineType: MachineTypeName, paths: KubeletPaths, mode: 'metal' | 'container'): Record<string, unknown> {
  const extra = cfg.extraConfig;
  const refused = ProtectedConfigFields.filter((f) => f in extra);
  if (refused.length > 0) throw new KubeletSpecError(refused.map((f) => `field "${f}" can't be overridden`).join('; '));
  const files = kubeletFiles(paths);
  const c: Record<string, unknown> = structuredClone(extra);
  c.apiVersion = 'kubelet.config.k8s.io/v1beta1';
  c.kind = 'KubeletConfiguration';
  c.staticPodPath = cfg.disableManifestsDirectory ? undefined : files.manifests;
  if (cfg.staticPodListURL) c.staticPodURL = cfg.staticPodListURL;
  c.port = 10250;
  const authentication = { x509: { clientCAFile: files.ca }, webhook: { enabled: true }, anonymous: { enabled: false } };
  const authorization = { mode: 'Webhook' };
  c.authentication = authentication;
  c.authorization = authorization;
  c.cgroupRoot = '/';
  c.systemCgroups = '/system';
  c.kubeletCgroups = '/podruntime/kubelet';
  c.rotateCertificates = true;
  c.protectKernelDefaults = mode !== 'container';
  if (configHasRuntimeEndpoint(cfg.image)) c.containerRuntimeEndpoint = `unix://${paths.criAddress}`;
  if (cfg.defaultRuntimeSeccompEnabled) c.seccompDefault = true;
  if (cfg.enableFSQuotaMonitoring) {
    const gates = isObject(c.featureGates) ? c.featureGates : {};
    if (!('LocalStorageCapacityIsolationFSQuotaMonitoring' in gates)) c.featureGates = { ...gates, LocalStorageCapacityIsolationFSQuotaMonitoring: true };
  }
  if (cfg.skipNodeRegistration) {
    authentication.webhook.enabled = false;
    authorization.mode = 'AlwaysAllow';
  } else if (isControlPlane(machineType) && !cfg.allowSchedulingOnControlPlane) {
    // registered already tainted, so that nothing is scheduled before the node's own taint is applied
    const taints = Array.isArray(c.registerWithTaints) ? (c.registerWithTaints as { key?: string }[]) : [];
    const key = 'node-role.kubernetes.io/control-plane';
    if (!taints.some((t) => t.key === key) && !cfg.extraArgs['register-with-taints']) c.registerWithTaints = [...taints, { key, effect: 'NoSchedule' }];
  }
  const unset = (k: string) => c[k] === undefined || c[k] === '' || (Array.isArray(c[k]) && (c[k] as unknown[]).length === 0);
  const defaults: Record<string, unknown> = {
    address: '0.0.0.0',
    oomScoreAdj: -450,
    clusterDomain: cfg.clusterDomain,
    clusterDNS: cfg.clusterDNS,
    serializeImagePulls: false,
    failSwapOn: false,
    systemReserved: { cpu: '50m', pid: '100', 'ephemeral-storage': '256Mi', memory: isControlPlane(machineType) ? '512Mi' : '384Mi' },
    shutdownGracePeriod: '30s',
    shutdownGracePeriodCriticalPods: '10s',
    streamingConnectionIdleTimeout: '5m0s',
    tlsMinVersion: 'VersionTLS13',
  };
  for (const [k, v] of Object.entries(defaults)) {
    if (unset(k) || (k === 'systemReserved' && isObject(c[k]) && Object.keys(c[k]).length === 0)) c[k] = v;
  }
  const logging = isObject(c.logging) ? c.logging : {};
  if (!logging.format) c.logging = { ...logging, format: 'json' };
  return sortedKeys(c) as Record<string, unknown>;
}

/**
 * `k8s.KubeletSpecController`: KubeletSpecs `kubelet` from the KubeletConfig, the node name, the node IPs and the
 * machine type: the image, the flags (the node's files, `--hostname-override`, `--node-ip`, then `extraArgs`; the
 * flags naming the node's files cannot be overridden), the mounts and the KubeletConfiguration. A node name set
 * through `extraArgs` is not the node's to expect; a `--node-ip` there means no NodeIP is needed.
 */
export class KubeletSpecController implements Controller {
  readonly name = 'k8s.KubeletSpecController';

  constructor(private readonly opts: { paths: KubeletPaths; mode: 'metal' | 'container' }) {}

  inputs(): Input[] {
    return [
      { namespace: K8sNamespace, type: KubeletConfigType, id: KubeletID, kind: 'weak' },
      { namespace: K8sNamespace, type: NodenameType, id: NodenameID, kind: 'weak' },
      { namespace: K8sNamespace, type: NodeIPType, id: KubeletID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: KubeletSpecType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = (await r.getOptional<KubeletConfigSpec>({ namespace: K8sNamespace, type: KubeletConfigType, id: KubeletID }))?.spec;
      if (!cfg) {
        // no kubelet in the config any more: no spec
        await r.cleanupOutputs({ namespace: K8sNamespace, type: KubeletSpecType });
        continue;
      }
      const machineType = (await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }))?.spec.type;
      const nodename = (await r.getOptional<NodenameSpec>({ namespace: K8sNamespace, type: NodenameType, id: NodenameID }))?.spec.nodename;
      const nodeIP = (await r.getOptional<NodeIPSpec>({ namespace: K8sNamespace, type: NodeIPType, id: KubeletID }))?.spec;
      if (!machineType || !nodename) continue;
      const spec = kubeletSpecFrom(cfg, { machineType, nodename, nodeIPs: nodeIP?.addresses }, this.opts.paths, this.opts.mode);
      // until the node has an IP the kubelet could register with, the last spec (if any) stays
      if (!spec) continue;
      await r.modify<KubeletSpecSpec>({ namespace: K8sNamespace, type: KubeletSpecType, id: KubeletID }, () => spec, (o) => {
        o.spec = spec;
      });
      await r.cleanupOutputs({ namespace: K8sNamespace, type: KubeletSpecType });
      r.resetRestartBackoff();
    }
  }
}

/** The KubeletSpec, or undefined while the node IP it needs is not known. */
export function kubeletSpecFrom(cfg: KubeletConfigSpec, node: { machineType: MachineTypeName; nodename: string; nodeIPs?: string[] }, paths: KubeletPaths, mode: 'metal' | 'container'): KubeletSpecSpec | undefined {
  const files = kubeletFiles(paths);
  const base: Record<string, string[]> = { config: [files.config], 'cert-dir': [files.pki], 'hostname-override': [node.nodename] };
  if (!cfg.skipNodeRegistration) {
    base['bootstrap-kubeconfig'] = [files.bootstrapKubeconfig];
    base.kubeconfig = [files.kubeconfig];
  }
  if (cfg.cloudProviderExternal) base['cloud-provider'] = ['external'];
  if (!configHasRuntimeEndpoint(cfg.image)) base['container-runtime-endpoint'] = [`unix://${paths.criAddress}`];
  const extraKeys = new Set(Object.keys(cfg.extraArgs).map((k) => k.replace(/_/g, '-')));
  if (!extraKeys.has('node-ip')) {
    if (!node.nodeIPs?.length) return undefined;
    // one flag, both families comma-separated
    base['node-ip'] = [node.nodeIPs.join(',')];
  }
  const args = mergeArgs(base, cfg.extraArgs);
  if (cfg.credentialProviderConfig) {
    args.set('image-credential-provider-bin-dir', [CredentialProviderBinDir]);
    args.set('image-credential-provider-config', [files.credentialProviderConfig]);
  }
  return {
    image: cfg.image,
    args: formatArgs(args),
    extraMounts: cfg.extraMounts.map((m) => ({ ...m, options: [...m.options] })),
    expectedNodename: extraKeys.has('hostname-override') ? '' : node.nodename,
    config: kubeletConfiguration(cfg, node.machineType, paths, mode),
    ...(cfg.credentialProviderConfig ? { credentialProviderConfig: structuredClone(cfg.credentialProviderConfig) } : {}),
  };
}
