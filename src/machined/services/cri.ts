import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import type { ServiceContext } from './context.js';
import { grpcHealthCheck } from './grpc-health.js';

/** The CRI containerd's socket (Talos: /run/containerd/containerd.sock), which the kubelet and etcd use. */
export const criContainerdAddress = (ctx: ServiceContext) => join(ctx.paths.run, 'containerd', 'containerd.sock');

/**
 * `cri`: the second containerd, serving the Kubernetes CRI with the configuration the CRI config controller writes
 * to `/etc/cri/containerd.toml`. Skipped on a node without the containerd program or that configuration.
 */
export function criService(ctx: ServiceContext): ServiceDefinition {
  const address = criContainerdAddress(ctx);
  const config = join(ctx.paths.etc, 'cri', 'containerd.toml');
  return {
    id: 'cri',
    runner: () => {
      const bin = ctx.which('containerd');
      const missing = !bin ? 'containerd is not installed on this node' : !existsSync(config) ? `${config} has not been written` : undefined;
      if (missing) {
        ctx.logger.warn({ service: 'cri' }, `${missing}: service skipped`);
        return undefined;
      }
      return new RestartRunner(
        new ProcessRunner({
          id: 'cri',
          args: [bin!, '--address', address, '--config', config],
          log: ctx.logs.serviceLog('cri'),
          logger: ctx.logger,
          oomScoreAdj: -500,
        }),
        { policy: 'Forever' },
      );
    },
    health: { check: (signal) => grpcHealthCheck(address, signal) },
  };
}
