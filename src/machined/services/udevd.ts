import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ProcessRunner, RestartRunner, type ServiceDefinition } from '../supervisor/index.js';
import { CGROUPS } from '../supervisor/system-cgroups.js';
import type { ServiceContext } from './context.js';

const run = promisify(execFile);

export interface UdevdOptions {
  /** the node's platform: udevd manages the devices of a machine, which a process node does not own */
  platform: 'metal' | 'process';
  /** `machine.udev.rules` of the config, written to the rules directory before udevd starts */
  rules?: () => Promise<string[]>;
  /** where extra rules go (default /usr/etc/udev/rules.d, as Talos) */
  rulesDir?: string;
}

/**
 * `udevd` (metal): the device manager (Debian's systemd-udevd), started with names left unresolved after the
 * hardware database is rebuilt and the config's rules written; healthy once its control socket exists and
 * `udevadm trigger` + `settle` have gone through the devices present at boot. Skipped on the process platform (the
 * devices are the host's) and on a node without udevd.
 */
export function udevdService(ctx: ServiceContext, opts: UdevdOptions = { platform: 'metal' }): ServiceDefinition {
  let triggered = false;
  return {
    id: 'udevd',
    pre: async () => {
      if (opts.platform !== 'metal') return;
      const rules = (await opts.rules?.()) ?? [];
      if (rules.length > 0) {
        const dir = opts.rulesDir ?? '/usr/etc/udev/rules.d';
        await mkdir(dir, { recursive: true });
        await writeFile(`${dir}/99-talos.rules`, rules.join('\n') + '\n');
      }
      const udevadm = ctx.which('udevadm');
      if (udevadm) await run(udevadm, ['hwdb', '--update']);
    },
    runner: () => {
      if (opts.platform !== 'metal') {
        ctx.logger.info({ service: 'udevd' }, 'udevd manages the devices of a machine; a process node has none of its own: service skipped');
        return undefined;
      }
      const bin = ctx.which('udevd') ?? ctx.which('systemd-udevd');
      if (!bin) {
        ctx.logger.warn({ service: 'udevd' }, 'udevd is not installed on this node: service skipped');
        return undefined;
      }
      return new RestartRunner(new ProcessRunner({ id: 'udevd', args: [bin, '--resolve-names=never'], log: ctx.logs.serviceLog('udevd'), logger: ctx.logger, cgroup: ctx.cgroup?.(CGROUPS.udevd) }), { policy: 'Forever' });
    },
    health: {
      check: async () => {
        if (!existsSync('/run/udev/control')) throw new Error('udevd control socket /run/udev/control does not exist yet');
        const udevadm = ctx.which('udevadm');
        if (!udevadm) return;
        if (!triggered) {
          await run(udevadm, ['trigger', '--type=devices', '--action=add']);
          await run(udevadm, ['trigger', '--type=subsystems', '--action=add']);
          triggered = true;
        }
        await run(udevadm, ['settle', '--timeout=50']);
      },
      settings: { initialDelay: 100, period: 60_000, timeout: 55_000 },
    },
  };
}
