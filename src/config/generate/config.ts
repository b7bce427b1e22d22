/**
 * `gen config`: the machine configs of a new cluster (control plane and worker) and its talosconfig, in the layout
 * of version contracts up to v1.13: one full v1alpha1 document followed by registry and network documents
 * (HostnameConfig from v1.12 on).
 */
import { TALOS_COMPAT_VERSION } from '../../version.js';
import { issueKeyPair, CLIENT_CERT_VALIDITY_MS } from '../../pki/cert.js';
import { toBase64PEM } from '../../pki/pem.js';
import type { Talosconfig } from '../../client/talosconfig.js';
import { ConfigDocument, MachineConfig, type V1Alpha1Config } from '../document.js';
import { ConfigError } from '../errors.js';
import { isIP } from '../net.js';
import { applyPatches } from '../patch/apply.js';
import type { Patch } from '../patch/load.js';
import { compareKeys } from '../encode.js';
import { features, type VersionContract } from './contract.js';
import { generateSecrets, osCA, type SecretsBundle } from './secrets.js';

/** Default Kubernetes version of Talos v1.13. */
export const DEFAULT_KUBERNETES_VERSION = '1.36.3';
export const DEFAULT_INSTALL_DISK = '/dev/sda';
export const DEFAULT_INSTALLER_IMAGE = `ghcr.io/siderolabs/installer:${TALOS_COMPAT_VERSION}`;
export const DEFAULT_DNS_DOMAIN = 'cluster.local';
export const DEFAULT_KUBEPRISM_PORT = 7445;

const images = {
  kubelet: 'ghcr.io/siderolabs/kubelet',
  apiServer: 'registry.k8s.io/kube-apiserver',
  controllerManager: 'registry.k8s.io/kube-controller-manager',
  scheduler: 'registry.k8s.io/kube-scheduler',
  proxy: 'registry.k8s.io/kube-proxy',
};

const defaultAuditPolicy = { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };

const podSecurity = {
  name: 'PodSecurity',
  configuration: {
    apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
    kind: 'PodSecurityConfiguration',
    defaults: { enforce: 'baseline', 'enforce-version': 'latest', audit: 'restricted', 'audit-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
    exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
  },
};

export interface GenerateInput {
  clusterName: string;
  /** the Kubernetes API endpoint, an https URL */
  endpoint: string;
  /** without the `v`; empty leaves images unset */
  kubernetesVersion?: string;
  contract?: VersionContract;
  secrets?: SecretsBundle;
  installDisk?: string;
  installImage?: string;
  installExtraKernelArgs?: string[];
  additionalSANs?: string[];
  dnsDomain?: string;
  /** cluster discovery (default on) */
  discovery?: boolean;
  /** KubeSpan: undefined leaves it out */
  kubeSpan?: boolean;
  /** registry host → mirror endpoints */
  registryMirrors?: Record<string, string[]>;
  allowSchedulingOnControlPlanes?: boolean;
  localAPIServerPort?: number;
  sysctls?: Record<string, string>;
  cni?: { name?: string; urls?: string[] };
  debug?: boolean;
  /** KubePrism port; 0 disables it; undefined uses the contract default */
  kubePrismPort?: number;
  /** endpoints written to the talosconfig (empty by default, as talosctl) */
  talosconfigEndpoints?: string[];
  /** roles of the talosconfig client certificate (default os:admin) */
  roles?: string[];
  /** generation time (certificate notBefore); default now */
  now?: Date;
}

export type GeneratedType = 'init' | 'controlplane' | 'worker';

/** Resolved input: secrets generated when not given. */
export interface ResolvedInput extends GenerateInput {
  secrets: SecretsBundle;
}

export async function resolveInput(input: GenerateInput): Promise<ResolvedInput> {
  if (!input.clusterName) throw new ConfigError('BRONZE_CONFIG_GENERATE', 'cluster name is required');
  return { ...input, secrets: input.secrets ?? (await generateSecrets({ contract: input.contract, now: input.now })) };
}

function image(repo: string, version: string | undefined): string | undefined {
  return version ? `${repo}:v${version}` : undefined;
}

function hostnameOf(endpoint: string): string | undefined {
  try {
    const u = new URL(endpoint);
    return u.hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** The v1alpha1 document and the extra documents for a machine type. */
export function generateDocuments(input: ResolvedInput, type: GeneratedType): ConfigDocument[] {
  const f = features(input.contract);
  const s = input.secrets;
  const k8s = input.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
  const controlPlane = type !== 'worker';
  const ipv6 = isIP(input.endpoint) && input.endpoint.includes(':');
  const podNet = ipv6 ? 'fc00:db8:10::/56' : '10.244.0.0/16';
  const serviceNet = ipv6 ? 'fc00:db8:20::/112' : '10.96.0.0/12';
  const sans = [...(input.additionalSANs ?? [])];

  const kubelet: Record<string, unknown> = { image: image(images.kubelet, k8s) };
  if (f.kubeletDefaultRuntimeSeccompProfile) kubelet.defaultRuntimeSeccompProfileEnabled = true;
  if (f.kubeletManifestsDirectoryDisabled) kubelet.disableManifestsDirectory = true;

  const install: Record<string, unknown> = { disk: input.installDisk ?? '', image: input.installImage ?? '', wipe: false, extraKernelArgs: input.installExtraKernelArgs };
  if (f.grubUseUKICmdline) install.grubUseUKICmdline = true;

  const feat: Record<string, unknown> = {};
  if (!f.hideRBACAndKeyUsage) {
    feat.rbac = true;
    if (f.apidExtKeyUsageCheck) feat.apidCheckExtKeyUsage = true;
  }
  if (f.diskQuotaSupport) feat.diskQuotaSupport = true;
  if (input.kubePrismPort !== undefined) {
    if (input.kubePrismPort > 0) feat.kubePrism = { enabled: true, port: input.kubePrismPort };
  } else if (f.kubePrism) feat.kubePrism = { enabled: true, port: DEFAULT_KUBEPRISM_PORT };
  if (f.hostDNS) feat.hostDNS = { enabled: true, ...(f.hostDNSForwardKubeDNSToHost ? { forwardKubeDNSToHost: true } : {}) };

  const machine: Record<string, unknown> = {
    type,
    token: s.trustdinfo.token,
    ca: controlPlane ? { ...s.certs.os } : { crt: s.certs.os.crt, key: '' },
    certSANs: sans,
    kubelet,
    install,
    sysctls: input.sysctls,
    features: feat,
  };
  if (controlPlane && f.excludeFromExternalLoadBalancer) machine.nodeLabels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };

  const network = { dnsDomain: input.dnsDomain ?? DEFAULT_DNS_DOMAIN, podSubnets: [podNet], serviceSubnets: [serviceNet], ...(input.cni ? { cni: input.cni } : {}) };
  const discovery = input.discovery === false ? { enabled: false } : { enabled: true };
  const discoveryCfg: Record<string, unknown> = { ...discovery, ...(f.kubernetesDiscoveryBackendDisabled ? { registries: { kubernetes: { disabled: true } } } : {}) };

  let cluster: Record<string, unknown>;
  if (controlPlane) {
    const apiServer: Record<string, unknown> = {
      image: image(images.apiServer, k8s),
      certSANs: [...(f.populateClusterSANsFromEndpoint ? [hostnameOf(input.endpoint)].filter((x): x is string => !!x) : []), ...sans],
    };
    if (f.podSecurityAdmission) apiServer.admissionControl = [structuredClone(podSecurity)];
    if (f.apiServerAuditPolicy) apiServer.auditPolicy = structuredClone(defaultAuditPolicy);
    if (!f.hideDisablePSP) apiServer.disablePodSecurityPolicy = true;
    cluster = {
      id: s.cluster.id,
      secret: s.cluster.secret,
      controlPlane: { endpoint: input.endpoint, localAPIServerPort: input.localAPIServerPort },
      clusterName: input.clusterName,
      network,
      token: s.secrets.bootstraptoken,
      ...(f.secretboxEncryption ? { secretboxEncryptionSecret: s.secrets.secretboxencryptionsecret } : { aescbcEncryptionSecret: s.secrets.aescbcencryptionsecret }),
      ca: { ...s.certs.k8s },
      aggregatorCA: { ...s.certs.k8saggregator },
      serviceAccount: { key: s.certs.k8sserviceaccount.key },
      apiServer,
      controllerManager: { image: image(images.controllerManager, k8s) },
      proxy: { image: image(images.proxy, k8s) },
      scheduler: { image: image(images.scheduler, k8s) },
      discovery: discoveryCfg,
      etcd: { ca: { ...s.certs.etcd } },
      extraManifests: [],
      inlineManifests: [],
    };
    if (input.allowSchedulingOnControlPlanes) {
      if (f.allowSchedulingOnControlPlanes) cluster.allowSchedulingOnControlPlanes = true;
      else cluster.allowSchedulingOnMasters = true;
    }
  } else {
    cluster = {
      id: s.cluster.id,
      secret: s.cluster.secret,
      controlPlane: { endpoint: input.endpoint },
      ...(f.clusterNameForWorkers ? { clusterName: input.clusterName } : {}),
      network,
      token: s.secrets.bootstraptoken,
      ca: { crt: s.certs.k8s.crt, key: '' },
      discovery: discoveryCfg,
    };
    if (f.kubernetesAlternateImageRegistries) machine.registries = { mirrors: { 'k8s.gcr.io': { endpoints: ['https://registry.k8s.io', 'https://k8s.gcr.io'] } } };
  }

  const docs: ConfigDocument[] = [];
  // registries: in v1alpha1 before multi-doc network configs (v1.12), as documents after
  const mirrors = input.registryMirrors ?? {};
  if (!f.multidocNetworkConfig) {
    const reg = (machine.registries ?? { mirrors: {} }) as { mirrors: Record<string, unknown> };
    if (controlPlane && f.kubernetesAlternateImageRegistries) reg.mirrors['k8s.gcr.io'] = { endpoints: ['https://registry.k8s.io', 'https://k8s.gcr.io'] };
    for (const [host, endpoints] of Object.entries(mirrors)) reg.mirrors[host] = { endpoints };
    machine.registries = reg;
  } else {
    for (const host of Object.keys(mirrors).sort(compareKeys)) docs.push(ConfigDocument.of('RegistryMirrorConfig', { name: host, endpoints: mirrors[host]!.map((url) => ({ url })) }));
  }

  // network
  if (!f.kubeSpanMultidocConfig) machine.network = {};
  if (f.stableHostname && !f.multidocNetworkConfig) feat.stableHostname = true;
  if (f.multidocNetworkConfig) docs.push(ConfigDocument.of('HostnameConfig', { auto: 'stable' }));
  if (input.kubeSpan !== undefined) {
    if (f.kubeSpanMultidocConfig) docs.push(ConfigDocument.of('KubeSpanConfig', { enabled: input.kubeSpan }));
    else (machine.network as Record<string, unknown>).kubespan = { enabled: input.kubeSpan };
  }

  const v1: V1Alpha1Config = { version: 'v1alpha1', debug: input.debug ?? false, persist: true, machine: machine as V1Alpha1Config['machine'], cluster: cluster as V1Alpha1Config['cluster'] };
  return [ConfigDocument.of('v1alpha1', stripUndefined(v1) as Record<string, unknown>), ...docs];
}

function stripUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripUndefined);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, stripUndefined(x)]));
  return v;
}

/** The machine config of a type. */
export function generateConfig(input: ResolvedInput, type: GeneratedType): MachineConfig {
  return new MachineConfig(generateDocuments(input, type));
}

/** The talosconfig of the cluster: context named after it, an admin client certificate signed by the OS CA. */
export async function generateTalosconfig(input: ResolvedInput): Promise<Talosconfig> {
  const ca = osCA(input.secrets);
  const notBefore = input.now ?? new Date();
  const client = await issueKeyPair(ca, {
    subject: { organization: input.roles ?? ['os:admin'] },
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
    notBefore,
    notAfter: new Date(notBefore.getTime() + CLIENT_CERT_VALIDITY_MS),
  });
  return {
    context: input.clusterName,
    contexts: {
      [input.clusterName]: {
        endpoints: input.talosconfigEndpoints ?? [],
        ca: input.secrets.certs.os.crt,
        crt: toBase64PEM(client.certPEM),
        key: toBase64PEM(client.keyPEM),
      },
    },
  };
}

export interface ConfigBundle {
  input: ResolvedInput;
  controlplane: MachineConfig;
  worker: MachineConfig;
  init: MachineConfig;
  talosconfig: Talosconfig;
}

export interface BundlePatches {
  /** applied to every type */
  all?: Patch[];
  controlPlane?: Patch[];
  worker?: Patch[];
}

/** Generates the configs of every type and the talosconfig, then applies the patches (as talosctl gen config). */
export async function generateBundle(input: GenerateInput, patches: BundlePatches = {}): Promise<ConfigBundle> {
  const resolved = await resolveInput(input);
  let init = generateConfig(resolved, 'init');
  let controlplane = generateConfig(resolved, 'controlplane');
  let worker = generateConfig(resolved, 'worker');
  for (const [list, cp, w] of [
    [patches.all ?? [], true, true],
    [patches.controlPlane ?? [], true, false],
    [patches.worker ?? [], false, true],
  ] as const) {
    if (!list.length) continue;
    if (cp) {
      init = applyPatches(init, list);
      controlplane = applyPatches(controlplane, list);
    }
    if (w) worker = applyPatches(worker, list);
  }
  return { input: resolved, init, controlplane, worker, talosconfig: await generateTalosconfig(resolved) };
}
