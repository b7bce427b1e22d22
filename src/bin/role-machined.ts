import { startMachined } from '../machined/main.js';
import { CGROUP_ROOT } from '../machined/supervisor/cgroup.js';
import { pid1ExitStatus, RebootCommand } from '../machined/sequencer/index.js';
import { KernelCmdline } from '../platform/cmdline.js';
import { metalConsole } from '../platform/console.js';
import { flag, required } from './flags.js';

/**
 * machined. The process platform: a reboot restarts machined (and so the node's services) in this process, as PID 1
 * restarts it on metal; a shutdown or a reset without reboot ends the process. On metal machined ends with the exit
 * status PID 1 turns into reboot(2).
 */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  // apid and trustd are this program in another role
  const self = process.argv[1]!;
  const metal = flag(argv, 'platform') === 'metal';
  // metal without --state: a real machine under Bronze's PID 1 (not a metal node a test runs in a directory)
  const machine = metal && flag(argv, 'state') === undefined;
  const aborted = new Promise<'signal'>((resolve) => signal.addEventListener('abort', () => resolve('signal'), { once: true }));
  for (;;) {
    const m = await startMachined({
      platform: metal ? 'metal' : 'process',
      cmdline: flag(argv, 'cmdline') !== undefined ? new KernelCmdline(flag(argv, 'cmdline')!) : undefined,
      stateDir: metal ? (flag(argv, 'state') ?? '/system/state') : required(argv, 'state'),
      // a real machine (no --state): /etc files live in /system/etc and are bind-mounted over /etc
      etc: machine ? { root: '/system/etc', bindOver: '/etc' } : undefined,
      // and keeps /system/state on the filesystem labelled STATE when it has one
      stateVolume: machine,
      // which PID 1 creates once the kernel modules it loads while machined starts are in
      modulesLoaded: machine ? '/run/bronze-modules-loaded' : undefined,
      // and has the node's cgroup layout under PID 1's cgroup2 mount
      cgroupRoot: machine ? CGROUP_ROOT : undefined,
      address: metal ? (flag(argv, 'address') ?? '') : required(argv, 'address'),
      apiPort: flag(argv, 'api-port') ? Number(flag(argv, 'api-port')) : undefined,
      apidCommand: [process.execPath, ...process.execArgv, self, 'apid'],
      trustdCommand: [process.execPath, ...process.execArgv, self, 'trustd'],
      trustdPort: flag(argv, 'trustd-port') ? Number(flag(argv, 'trustd-port')) : undefined,
      signal,
      // a real machine shows machined's log on its console
      logStream: metal ? metalConsole() : undefined,
    });
    const outcome = await Promise.race([aborted, m.ended]);
    await m.stop();
    if (outcome === 'signal') return 0;
    if (metal) return pid1ExitStatus(outcome);
    if (outcome !== RebootCommand.RESTART && outcome !== RebootCommand.KEXEC) return 0;
  }
}
