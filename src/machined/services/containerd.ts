import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shortSocketPath } from '../../sys/socket-path.js';
import { systemContainerdConfig } from '../containerd/config.js';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import { CGROUPS } from '../supervisor/system-cgroups.js';
import type { ServiceContext } from './context.js';
import { grpcHealth } from './grpc-health.js';

/** The system containerd's socket (Talos: /system/run/containerd/containerd.sock); see criContainerdAddress. */
export const systemContainerdAddress = (ctx: ServiceContext) => shortSocketPath(join(ctx.paths.systemRun, 'containerd', 'containerd.sock'));

/** Why a containerd instance cannot run on this node, or undefined when it can. */
export function containerdUnavailable(ctx: ServiceContext): string | undefined {
  if (!ctx.which('containerd')) return 'containerd is not installed on this node';
  if (process.getuid?.() !== 0) return 'containerd needs root (it mounts snapshots and runs containers through runc), and this node runs without it';
  if (!ctx.which('runc')) return 'runc is not installed on this node';
  return undefined;
}

/**
 * `containerd`: the system containerd, which runs the node's own containers (apid and trustd on Talos). Its state
 * lives under the system run directory, its root under the system var directory, with a configuration of its own
 * (no CRI plugin, nothing from the host's /etc/containerd); healthy when its gRPC health service says SERVING.
 * Skipped, with the reason, on a node without containerd and runc or without root.
 */
export function containerdService(ctx: ServiceContext): ServiceDefinition {
  const address = systemContainerdAddress(ctx);
  const state = join(ctx.paths.systemRun, 'containerd');
  const root = join(ctx.paths.systemVar, 'lib', 'containerd');
  const config = join(state, 'config.toml');
  return {
    id: 'containerd',
    pre: async () => {
      if (containerdUnavailable(ctx)) return;
      await mkdir(state, { recursive: true, mode: 0o711 });
      await mkdir(join(ctx.paths.systemVar, 'tmp'), { recursive: true });
      await writeFile(config, systemContainerdConfig({ address, root, state }), { mode: 0o644 });
    },
    runner: () => {
      const missing = containerdUnavailable(ctx);
      if (missing) {
        ctx.logger.warn({ service: 'containerd', reason: missing }, `${missing}: service skipped`);
        return undefined;
      }
      return new RestartRunner(
        new ProcessRunner({
          id: 'containerd',
          args: [ctx.which('containerd')!, '--address', address, '--state', state, '--root', root, '--config', config],
          env: { TMPDIR: join(ctx.paths.systemVar, 'tmp'), XDG_RUNTIME_DIR: join(ctx.paths.systemRun, 'containerd') },
          log: ctx.logs.serviceLog('containerd'),
          logger: ctx.logger,
          oomScoreAdj: -999,
          cgroup: ctx.cgroup?.(CGROUPS.systemRuntime),
        }),
        { policy: 'Forever' },
      );
    },
    health: grpcHealth(address),
  };
}
