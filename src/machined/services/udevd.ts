import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import type { ServiceContext } from './context.js';

const run = promisify(execFile);

/**
 * `udevd` (metal): the device manager, started with names left unresolved; the hardware database is rebuilt
 * before it starts. Debian ships it as systemd-udevd.
 */
export function udevdService(ctx: ServiceContext): ServiceDefinition {
  return {
    id: 'udevd',
    pre: async () => {
      const udevadm = ctx.which('udevadm');
      if (udevadm) await run(udevadm, ['hwdb', '--update']);
    },
    runner: () => {
      const bin = ctx.which('udevd') ?? ctx.which('systemd-udevd');
      if (!bin) {
        ctx.logger.warn({ service: 'udevd' }, 'udevd is not installed on this node: service skipped');
        return undefined;
      }
      return new RestartRunner(new ProcessRunner({ id: 'udevd', args: [bin, '--resolve-names=never'], log: ctx.logs.serviceLog('udevd'), logger: ctx.logger }), { policy: 'Forever' });
    },
  };
}
