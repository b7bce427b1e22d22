import { STATUS_CODES } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify as stringifyYAML } from 'yaml';
import { kubeletFiles, type KubeletPaths } from '../../controllers/k8s/kubelet-spec.js';
import type { KubeletBootstrap, KubeletServiceHost } from '../../controllers/k8s/kubelet-service.js';
import { httpGet } from '../../platform/http-get.js';
import type { KubeletSpecSpec } from '../../resources/k8s/kubelet-spec.js';
import { ContainerdClient, SystemNamespace } from '../containerd/client.js';
import { pullImage, type RegistriesConfig } from '../containerd/registry.js';
import { ContainerRunner } from '../containerd/runner.js';
import type { SpecMount } from '../containerd/spec.js';
import { RestartRunner, type ServiceDefinition, ServiceState, type Supervisor, waitForAll } from '../supervisor/index.js';
import { CGROUPS, createSystemCgroup } from '../supervisor/system-cgroups.js';
import { networkReadyCondition, timeSyncCondition } from './conditions.js';
import { containerdUnavailable } from './containerd.js';
import { criContainerdAddress } from './cri.js';
import type { ServiceContext } from './context.js';

/** The bootstrap kubeconfig: the cluster endpoint and CA, and the bootstrap token. */
export function bootstrapKubeconfig(b: KubeletBootstrap): string {
  const { endpoint, caCrt: ca, token } = b;
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
    `    token: ${token}`,
    'contexts:',
    '- context:',
    '    cluster: local',
    '    user: kubelet',
    '  name: kubelet@local',
    'current-context: kubelet@local',
    '',
  ].join('\n');
}

/** The kubelet's paths under the node's /etc, /var and /run. */
export const kubeletPathsOf = (paths: Pick<ServiceContext['paths'], 'etc' | 'var' | 'run'>): KubeletPaths => ({
  etcKubernetes: join(paths.etc, 'kubernetes'),
  varLibKubelet: join(paths.var, 'lib', 'kubelet'),
  criAddress: criContainerdAddress({ paths }),
});

/**
 * Writes what the kubelet reads: the bootstrap kubeconfig, its KubeletConfiguration (`kubelet.yaml`), the cluster CA
 * and, when the spec has one, the image credential provider configuration (removed when it has none).
 */
export async function writeKubeletFiles(paths: KubeletPaths, spec: KubeletSpecSpec, bootstrap: KubeletBootstrap): Promise<void> {
  const files = kubeletFiles(paths);
  for (const d of [dirname(files.ca), files.manifests, files.pki]) await mkdir(d, { recursive: true });
  await writeFile(files.bootstrapKubeconfig, bootstrapKubeconfig(bootstrap), { mode: 0o600 });
  await writeFile(files.config, stringifyYAML(spec.config), { mode: 0o600 });
  if (bootstrap.caCrt) await writeFile(files.ca, Buffer.from(bootstrap.caCrt, 'base64'), { mode: 0o644 });
  if (spec.credentialProviderConfig) await writeFile(files.credentialProviderConfig, stringifyYAML(spec.credentialProviderConfig), { mode: 0o600 });
  else await rm(files.credentialProviderConfig, { force: true });
}

export interface KubeletServiceOptions {
  /** the current KubeletSpec (undefined when there is none) */
  spec(): Promise<KubeletSpecSpec | undefined>;
  /** registry mirrors of the machine config */
  registries?(): Promise<RegistriesConfig | undefined>;
  /** per registry request, ms (default 20 000) */
  pullTimeoutMs?: number;
}

/**
 * `kubelet`, run from the KubeletSpec: after the CRI containerd is up, waits for synced time and a network with
 * addresses, hostname and /etc files; its pre step pulls the spec's image into the CRI containerd's `system`
 * namespace (mirrors from `machine.registries`); a pull that fails fails the service with the pull error. It runs as
 * a privileged container sharing the host's network and PID namespaces, with the spec's arguments and extra mounts.
 * Its files are written before it starts (see writeKubeletFiles). The API may start and restart it (as on Talos).
 */
export function kubeletService(ctx: ServiceContext, opts?: KubeletServiceOptions): ServiceDefinition {
  const paths = kubeletPathsOf(ctx.paths);
  let spec: KubeletSpecSpec | undefined;
  return {
    id: 'kubelet',
    dependsOn: ['cri'],
    condition: waitForAll(timeSyncCondition(ctx.state), networkReadyCondition(ctx.state, 'addressReady', 'hostnameReady', 'etcFilesReady')),
    pre: async (signal) => {
      if (!opts || containerdUnavailable(ctx)) return;
      spec = await opts.spec();
      if (!spec) throw new Error('the kubelet has no KubeletSpec');
      for (const d of [join(ctx.paths.var, 'log', 'pods'), join(ctx.paths.var, 'log', 'containers')]) await mkdir(d, { recursive: true });
      // the container's group with its weight and memory protection: the runtime then only puts the kubelet in it
      const group = ctx.cgroup?.(CGROUPS.kubelet);
      if (group) createSystemCgroup(group.root, group.path);
      const c = new ContainerdClient(paths.criAddress, SystemNamespace);
      try {
        await pullImage(c, spec.image, { registries: await opts.registries?.(), skipIfPresent: true, signal, timeoutMs: opts.pullTimeoutMs ?? 20_000 });
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
        // the CRI socket reached through a short link (a deep run directory): the link's path inside the container too
        ...(dirname(paths.criAddress) !== join(ctx.paths.run, 'containerd') ? [bind(dirname(paths.criAddress), join(ctx.paths.run, 'containerd'), ['rbind', 'rslave', 'rw'])] : []),
        ...s.extraMounts,
      ];
      return new RestartRunner(
        new ContainerRunner({
          id: 'kubelet',
          address: paths.criAddress,
          namespace: SystemNamespace,
          image: s.image,
          spec: { args: ['/usr/local/bin/kubelet', ...s.args], mounts, hostNetwork: true, hostPID: true, privileged: true, rootfsPropagation: 'shared', oomScoreAdj: -450, cgroupsPath: ctx.cgroup?.(CGROUPS.kubelet)?.path },
          fifoDir: join(ctx.paths.run, 'kubelet-fifo'),
          log: ctx.logs.serviceLog('kubelet'),
          logger: ctx.logger,
        }),
        { policy: 'Forever' },
      );
    },
    health: {
      check: async (signal) => {
        const res = await httpGet('http://127.0.0.1:10248/healthz', { signal });
        res.discard();
        if (res.status !== 200) throw new Error(`expected HTTP status OK, got ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd());
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

/**
 * The kubelet service as the KubeletServiceController drives it: loaded on first use (and from then on started again
 * with backoff whenever it ends Failed, until `signal` aborts), its files written, stopped and started.
 */
export function kubeletServiceHost(supervisor: Supervisor, ctx: ServiceContext, opts: KubeletServiceOptions & { signal: AbortSignal; retry?: { initialDelay?: number; maxDelay?: number } }): KubeletServiceHost {
  const paths = kubeletPathsOf(ctx.paths);
  const loaded = () => supervisor.list().some((s) => s.id === 'kubelet');
  return {
    writeFiles: (spec, bootstrap) => writeKubeletFiles(paths, spec, bootstrap),
    load: () => {
      if (loaded()) return;
      // refused while the node shuts down
      if (supervisor.load(kubeletService(ctx, opts)).length === 0) return;
      retryWhenFailed(supervisor, 'kubelet', opts.signal, opts.retry);
    },
    isRunning: () => loaded() && supervisor.isRunning('kubelet'),
    stop: () => supervisor.stop('kubelet'),
    start: async () => {
      if (loaded()) await supervisor.start('kubelet');
    },
  };
}
