import { join } from 'node:path';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import type { ServiceContext } from './context.js';
import { grpcHealthCheck } from './grpc-health.js';

/** The system containerd's socket (Talos: /system/run/containerd/containerd.sock). */
export const systemContainerdAddress = (ctx: ServiceContext) => join(ctx.paths.systemRun, 'containerd', 'containerd.sock');

/**
 * `containerd`: the system containerd, which runs the node's own containers (apid and trustd on Talos). Its state
 * lives under the system run directory, its root under the system var directory; healthy when its gRPC health
 * service says SERVING. Skipped on a node without the containerd program.
 */
export function containerdService(ctx: ServiceContext): ServiceDefinition {
  const address = systemContainerdAddress(ctx);
  return {
    id: 'containerd',
    runner: () => {
      const bin = ctx.which('containerd');
      if (!bin) {
        ctx.logger.warn({ service: 'containerd' }, 'containerd is not installed on this node: service skipped');
        return undefined;
      }
      return new RestartRunner(
        new ProcessRunner({
          id: 'containerd',
          args: [bin, '--address', address, '--state', join(ctx.paths.systemRun, 'containerd'), '--root', join(ctx.paths.systemVar, 'lib', 'containerd')],
          env: { TMPDIR: join(ctx.paths.systemVar, 'tmp') },
          log: ctx.logs.serviceLog('containerd'),
          logger: ctx.logger,
          oomScoreAdj: -999,
        }),
        { policy: 'Forever' },
      );
    },
    health: { check: (signal) => grpcHealthCheck(address, signal) },
  };
}
