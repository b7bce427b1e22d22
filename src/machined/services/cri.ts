import { join } from 'node:path';
import { CAP_SYS_RESOURCE, hasCapability } from '../../sys/capabilities.js';
import { shortSocketPath } from '../../sys/socket-path.js';
import { writeCRIConfig } from '../containerd/config.js';
import type { RegistriesConfig } from '../containerd/registry.js';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import { CGROUPS } from '../supervisor/system-cgroups.js';
import { containerdUnavailable } from './containerd.js';
import type { ServiceContext } from './context.js';
import { grpcHealth } from './grpc-health.js';

/**
 * The CRI containerd's socket (Talos: /run/containerd/containerd.sock), which the kubelet and etcd use; through a
 * short link when the node's run directory is too deep for a unix socket path.
 */
export const criContainerdAddress = (ctx: { paths: Pick<ServiceContext['paths'], 'run'> }) => shortSocketPath(join(ctx.paths.run, 'containerd', 'containerd.sock'));

/** The CRI containerd's files: its main config (Talos: /etc/cri/containerd.toml), conf.d, root and state. */
export const criPaths = (ctx: ServiceContext) => ({
  mainFile: join(ctx.paths.etc, 'cri', 'containerd.toml'),
  address: criContainerdAddress(ctx),
  root: join(ctx.paths.var, 'lib', 'containerd'),
  state: join(ctx.paths.run, 'containerd'),
  confd: join(ctx.paths.etc, 'cri', 'conf.d'),
  cniConf: join(ctx.paths.etc, 'cni', 'net.d'),
  cniBin: join(ctx.paths.var, 'opt', 'cni', 'bin'),
});

export interface CRIServiceOptions {
  /** the current machine config's `machine.registries` (mirrors become the CRI plugin's registry hosts) */
  registries?(): Promise<RegistriesConfig | undefined>;
  /** the pod sandbox image (default Talos's pause image) */
  sandboxImage?: string;
}

/**
 * `cri`: the second containerd, serving the Kubernetes CRI. Before each start its configuration is rendered from the
 * machine config: the main file, the CRI plugin's settings and a hosts file per mirrored registry. Skipped, with
 * the reason, on a node without containerd and runc or without root.
 */
export function criService(ctx: ServiceContext, opts: CRIServiceOptions = {}): ServiceDefinition {
  const p = criPaths(ctx);
  return {
    id: 'cri',
    pre: async () => {
      if (containerdUnavailable(ctx)) return;
      // pod sandboxes ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE: without it, the CRI keeps to its own
      const restrictOOMScoreAdj = !hasCapability(CAP_SYS_RESOURCE);
      if (restrictOOMScoreAdj) ctx.logger.warn({ service: 'cri' }, 'no CAP_SYS_RESOURCE: containers keep an oom_score_adj no lower than the CRI containerd’s');
      await writeCRIConfig(p.mainFile, p, { registries: await opts.registries?.(), sandboxImage: opts.sandboxImage, restrictOOMScoreAdj });
    },
    runner: () => {
      const missing = containerdUnavailable(ctx);
      if (missing) {
        ctx.logger.warn({ service: 'cri', reason: missing }, `${missing}: service skipped`);
        return undefined;
      }
      return new RestartRunner(
        new ProcessRunner({
          id: 'cri',
          args: [ctx.which('containerd')!, '--address', p.address, '--config', p.mainFile],
          env: { XDG_RUNTIME_DIR: p.state },
          log: ctx.logs.serviceLog('cri'),
          logger: ctx.logger,
          oomScoreAdj: -500,
          cgroup: ctx.cgroup?.(CGROUPS.podRuntime),
        }),
        { policy: 'Forever' },
      );
    },
    health: grpcHealth(p.address),
  };
}
