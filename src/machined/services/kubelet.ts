import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineConfig } from '../../config/document.js';
import { ContainerdClient, SystemNamespace } from '../containerd/client.js';
import { pullImage } from '../containerd/registry.js';
import { ContainerRunner } from '../containerd/runner.js';
import type { SpecMount } from '../containerd/spec.js';
import { RestartRunner, type ServiceDefinition, ServiceState, type Supervisor, waitForAll } from '../supervisor/index.js';
import { networkReadyCondition, timeSyncCondition } from './conditions.js';
import { containerdUnavailable } from './containerd.js';
import type { ServiceContext } from './context.js';
import { criContainerdAddress } from './cri.js';

/** What the kubelet is run with, worked out from the machine config (Talos's KubeletSpec). */
export interface KubeletSpec {
  image: string;
  args: string[];
  extraMounts: SpecMount[];
}

export interface KubeletPaths {
  /** /etc/kubernetes */
  etcKubernetes: string;
  /** /var/lib/kubelet */
  varLibKubelet: string;
  /** the CRI socket */
  criAddress: string;
}

/** `--key=value` flags from extraArgs (Talos's ArgsBuilder: extra args replace the defaults of the same name). */
function mergeArgs(base: Record<string, string>, extra: Record<string, unknown> | undefined): string[] {
  const merged = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) merged[k.replace(/_/g, '-')] = Array.isArray(v) ? v.join(',') : String(v);
  return Object.keys(merged)
    .sort()
    .map((k) => `--${k}=${merged[k]}`);
}

/**
 * The kubelet's image, arguments and extra mounts from the machine config: the bootstrap and final kubeconfigs, its
 * configuration file and certificate directory, the CRI endpoint, the hostname and node IP, then
 * `machine.kubelet.extraArgs` over them. Errors name what the config lacks.
 */
export function kubeletSpec(cfg: MachineConfig, p: KubeletPaths, node: { hostname: string; nodeIP?: string }): KubeletSpec {
  const m = cfg.v1alpha1?.machine;
  const k = m?.kubelet;
  const image = k?.image;
  if (!image) throw new Error('machine.kubelet.image is not set in the machine config');
  const base: Record<string, string> = {
    'bootstrap-kubeconfig': join(p.etcKubernetes, 'bootstrap-kubeconfig'),
    kubeconfig: join(p.etcKubernetes, 'kubeconfig-kubelet'),
    config: join(p.etcKubernetes, 'kubelet.yaml'),
    'cert-dir': join(p.varLibKubelet, 'pki'),
    'container-runtime-endpoint': `unix://${p.criAddress}`,
    'hostname-override': node.hostname,
  };
  if (node.nodeIP) base['node-ip'] = node.nodeIP;
  const extraMounts = (k?.extraMounts ?? []).map((x) => ({ destination: x.destination ?? '', type: x.type ?? 'bind', source: x.source ?? '', options: x.options ?? [] }));
  return { image, args: mergeArgs(base, k?.extraArgs as Record<string, unknown> | undefined), extraMounts };
}

/** The node IP the kubelet registers with: the first node address inside `machine.kubelet.nodeIP.validSubnets` (all when unset). */
export function pickNodeIP(addresses: string[], validSubnets: string[] = []): string | undefined {
  const ips = addresses.map((a) => a.split('/')[0]);
  if (validSubnets.length === 0) return ips[0];
  const v4 = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const inSubnet = (ip: string, cidr: string) => {
    const [net, bits] = cidr.split('/');
    if (!ip.includes('.') || !net.includes('.')) return ip === net;
    const b = bits === undefined ? 32 : Number(bits);
    const mask = b === 0 ? 0 : 2 ** 32 - 2 ** (32 - b);
    return (v4(ip) & mask) >>> 0 === (v4(net) & mask) >>> 0;
  };
  const include = validSubnets.filter((s) => !s.startsWith('!'));
  const exclude = validSubnets.filter((s) => s.startsWith('!')).map((s) => s.slice(1));
  return ips.find((ip) => (include.length === 0 || include.some((s) => inSubnet(ip, s))) && !exclude.some((s) => inSubnet(ip, s)));
}

/** The bootstrap kubeconfig: the cluster endpoint and CA, and the bootstrap token. */
export function bootstrapKubeconfig(cfg: MachineConfig): string {
  const cluster = cfg.v1alpha1?.cluster;
  const endpoint = cluster?.controlPlane?.endpoint;
  if (!endpoint) throw new Error('cluster.controlPlane.endpoint is not set in the machine config');
  const ca = cluster?.ca?.crt ?? '';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${endpoint}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: kubelet',
    '  user:',
    `    token: ${cluster?.token ?? ''}`,
    'contexts:',
    '- context:',
    '    cluster: local',
    '    user: kubelet',
    '  name: kubelet@local',
    'current-context: kubelet@local',
    '',
  ].join('\n');
}

/** The kubelet's KubeletConfiguration (the fields Talos sets that do not depend on the cluster's add-ons). */
export function kubeletConfiguration(cfg: MachineConfig, p: KubeletPaths): string {
  const k = cfg.v1alpha1?.machine?.kubelet;
  const dns = k?.clusterDNS ?? ['10.96.0.10'];
  const doc: Record<string, unknown> = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: join(p.etcKubernetes, 'pki', 'ca.crt') } },
    authorization: { mode: 'Webhook' },
    cgroupRoot: '/',
    clusterDomain: cfg.v1alpha1?.cluster?.network?.dnsDomain ?? 'cluster.local',
    clusterDNS: dns,
    containerRuntimeEndpoint: `unix://${p.criAddress}`,
    port: 10250,
    protectKernelDefaults: true,
    rotateCertificates: true,
    serverTLSBootstrap: true,
    staticPodPath: k?.disableManifestsDirectory ? undefined : join(p.etcKubernetes, 'manifests'),
    ...(k?.extraConfig as Record<string, unknown> | undefined),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export interface KubeletServiceOptions {
  /** the current machine config */
  config(): Promise<MachineConfig | undefined>;
  /** the node's hostname and addresses */
  node(): Promise<{ hostname: string; addresses: string[] }>;
  /** per registry request, ms (default 20 000) */
  pullTimeoutMs?: number;
}

/**
 * `kubelet`: after the CRI containerd is up, waits for synced time and a network with addresses, hostname and /etc
 * files; its pre step writes the kubelet's files (bootstrap kubeconfig, KubeletConfiguration, cluster CA) and pulls
 * `machine.kubelet.image` into the CRI containerd's `system` namespace (mirrors from `machine.registries`); a pull
 * that fails fails the service with the pull error. It runs as a privileged container sharing the host's network and
 * PID namespaces. The API may start and restart it (as on Talos).
 */
export function kubeletService(ctx: ServiceContext, opts?: KubeletServiceOptions): ServiceDefinition {
  const paths: KubeletPaths = { etcKubernetes: join(ctx.paths.etc, 'kubernetes'), varLibKubelet: join(ctx.paths.var, 'lib', 'kubelet'), criAddress: criContainerdAddress(ctx) };
  let spec: KubeletSpec | undefined;
  return {
    id: 'kubelet',
    dependsOn: ['cri'],
    condition: waitForAll(timeSyncCondition(ctx.state), networkReadyCondition(ctx.state, 'addressReady', 'hostnameReady', 'etcFilesReady')),
    pre: async (signal) => {
      if (!opts || containerdUnavailable(ctx)) return;
      const cfg = await opts.config();
      if (!cfg) throw new Error('no machine config');
      const node = await opts.node();
      spec = kubeletSpec(cfg, paths, { hostname: node.hostname, nodeIP: pickNodeIP(node.addresses, cfg.v1alpha1?.machine?.kubelet?.nodeIP?.validSubnets) });
      for (const d of [join(paths.etcKubernetes, 'pki'), join(paths.etcKubernetes, 'manifests'), join(paths.varLibKubelet, 'pki'), join(ctx.paths.var, 'log', 'pods'), join(ctx.paths.var, 'log', 'containers')]) await mkdir(d, { recursive: true });
      await writeFile(join(paths.etcKubernetes, 'bootstrap-kubeconfig'), bootstrapKubeconfig(cfg), { mode: 0o600 });
      await writeFile(join(paths.etcKubernetes, 'kubelet.yaml'), kubeletConfiguration(cfg, paths), { mode: 0o600 });
      const ca = cfg.v1alpha1?.cluster?.ca?.crt;
      if (ca) await writeFile(join(paths.etcKubernetes, 'pki', 'ca.crt'), Buffer.from(ca, 'base64'), { mode: 0o644 });
      const c = new ContainerdClient(paths.criAddress, SystemNamespace);
      try {
        await pullImage(c, spec.image, { registries: cfg.v1alpha1?.machine?.registries, skipIfPresent: true, signal, timeoutMs: opts.pullTimeoutMs ?? 20_000 });
      } finally {
        c.close();
      }
    },
    runner: () => {
      const missing = !opts ? 'the kubelet is not configured on this node' : containerdUnavailable(ctx);
      if (missing) {
        ctx.logger.warn({ service: 'kubelet', reason: missing }, `${missing}: service skipped`);
        return undefined;
      }
      const s = spec!;
      const bind = (destination: string, source: string, options = ['bind', 'rw']) => ({ destination, type: 'bind', source, options });
      const mounts: SpecMount[] = [
        bind('/dev', '/dev'),
        { destination: '/sys', type: 'sysfs', source: '/sys', options: ['bind', 'ro'] },
        bind('/sys/fs/cgroup', '/sys/fs/cgroup'),
        bind(paths.etcKubernetes, paths.etcKubernetes),
        bind(paths.varLibKubelet, paths.varLibKubelet, ['rbind', 'rshared', 'rw']),
        bind(ctx.paths.run, ctx.paths.run, ['rbind', 'rslave', 'rw']),
        bind(join(ctx.paths.var, 'lib', 'containerd'), join(ctx.paths.var, 'lib', 'containerd'), ['rbind', 'rslave', 'rw']),
        bind('/var/log/pods', join(ctx.paths.var, 'log', 'pods')),
        bind('/var/log/containers', join(ctx.paths.var, 'log', 'containers')),
        ...(existsSync('/lib/modules') ? [bind('/lib/modules', '/lib/modules', ['bind', 'ro'])] : []),
        ...s.extraMounts,
      ];
      return new RestartRunner(
        new ContainerRunner({
          id: 'kubelet',
          address: paths.criAddress,
          namespace: SystemNamespace,
          image: s.image,
          spec: { args: ['/usr/local/bin/kubelet', ...s.args], mounts, hostNetwork: true, hostPID: true, privileged: true, rootfsPropagation: 'shared', oomScoreAdj: -450 },
          fifoDir: join(ctx.paths.run, 'kubelet-fifo'),
          log: ctx.logs.serviceLog('kubelet'),
          logger: ctx.logger,
        }),
        { policy: 'Forever' },
      );
    },
    health: {
      check: async (signal) => {
        const res = await fetch('http://127.0.0.1:10248/healthz', { signal });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`expected HTTP status OK, got ${res.status} ${res.statusText}`);
      },
      settings: { initialDelay: 2000 },
    },
    api: { start: true, restart: true },
  };
}

/**
 * Starts a service again, with exponential backoff, each time it ends Failed (the kubelet's pre step fails while its
 * image cannot be pulled): `initialDelay`, doubling up to `maxDelay`, back to `initialDelay` once it runs. Stops
 * with the signal.
 */
export function retryWhenFailed(supervisor: Supervisor, id: string, signal: AbortSignal, opts: { initialDelay?: number; maxDelay?: number } = {}): void {
  const initial = opts.initialDelay ?? 5000;
  const max = opts.maxDelay ?? 60_000;
  let backoff = initial;
  let timer: NodeJS.Timeout | undefined;
  const svc = supervisor.get(id);
  const unwatch = svc.watch(() => {
    const s = svc.getState();
    if (s === ServiceState.Running) backoff = initial;
    if (s !== ServiceState.Failed || timer || signal.aborted) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!signal.aborted && svc.getState() === ServiceState.Failed) void supervisor.start(id).catch(() => undefined);
    }, backoff);
    backoff = Math.min(backoff * 2, max);
  });
  signal.addEventListener(
    'abort',
    () => {
      unwatch();
      clearTimeout(timer);
    },
    { once: true },
  );
}
