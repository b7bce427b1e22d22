#!/usr/bin/env node
/**
 * The node's programs in one bundle: the role comes from the first argument or the program name (`machined`,
 * `apid`), as Talos's /sbin/init does.
 */
import { basename } from 'node:path';
import pino from 'pino';
import { runApid } from '../apid/main.js';
import { quietIPServerNameWarning } from '../client/warnings.js';
import { startMachined } from '../machined/main.js';
import { pid1ExitStatus, RebootCommand } from '../machined/sequencer/index.js';
import { KernelCmdline } from '../platform/cmdline.js';
import { metalConsole } from '../platform/console.js';
import { dieWithSupervisor, watchLifeline } from '../sys/lifeline.js';
import { runTrustd } from '../trustd/main.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function required(args: string[], name: string): string {
  const v = flag(args, name);
  if (!v) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<number> {
  quietIPServerNameWarning();
  const argv = process.argv.slice(2);
  const prog = basename(process.argv[1] ?? '');
  const role = ['machined', 'apid', 'trustd'].includes(prog) ? prog : argv.shift();
  const ac = new AbortController();
  process.once('SIGTERM', () => ac.abort());
  process.once('SIGINT', () => ac.abort());
  // a service of machined ends with it, even when machined was killed outright: the kernel kills it (when the native
  // addon is there), and the lifeline pipe lets it stop cleanly otherwise
  dieWithSupervisor();
  watchLifeline(() => {
    ac.abort();
    setTimeout(() => process.exit(1), 5000).unref();
  });
  switch (role) {
    case 'apid': {
      const logger = pino({ level: 'info', base: { service: 'apid' } });
      await runApid({
        stateSocket: required(argv, 'state-socket'),
        machinedSocket: required(argv, 'machined-socket'),
        peerPort: flag(argv, 'peer-port') ? Number(flag(argv, 'peer-port')) : undefined,
        logger,
        signal: ac.signal,
      });
      return 0;
    }
    case 'trustd': {
      const logger = pino({ level: 'info', base: { service: 'trustd' } });
      await runTrustd({ stateSocket: required(argv, 'state-socket'), listen: required(argv, 'listen'), logger, signal: ac.signal, onServing: (port) => logger.info({ port }, 'trustd serving') });
      return 0;
    }
    case 'machined': {
      // the process platform: a reboot restarts machined (and so the node's services) in this process, as PID 1
      // restarts it on metal; a shutdown or a reset without reboot ends the process. On metal machined ends with the
      // exit status PID 1 turns into reboot(2).
      const self = process.argv[1]!;
      const metal = flag(argv, 'platform') === 'metal';
      const aborted = new Promise<'signal'>((resolve) => ac.signal.addEventListener('abort', () => resolve('signal'), { once: true }));
      for (;;) {
        const m = await startMachined({
          platform: metal ? 'metal' : 'process',
          cmdline: flag(argv, 'cmdline') !== undefined ? new KernelCmdline(flag(argv, 'cmdline')!) : undefined,
          stateDir: metal ? (flag(argv, 'state') ?? '/system/state') : required(argv, 'state'),
          // a real machine (no --state): /etc files live in /system/etc and are bind-mounted over /etc
          etc: metal && flag(argv, 'state') === undefined ? { root: '/system/etc', bindOver: '/etc' } : undefined,
          // and keeps /system/state on the filesystem labelled STATE when it has one
          stateVolume: metal && flag(argv, 'state') === undefined,
          address: metal ? (flag(argv, 'address') ?? '') : required(argv, 'address'),
          apiPort: flag(argv, 'api-port') ? Number(flag(argv, 'api-port')) : undefined,
          apidCommand: [process.execPath, ...process.execArgv, self, 'apid'],
          trustdCommand: [process.execPath, ...process.execArgv, self, 'trustd'],
          trustdPort: flag(argv, 'trustd-port') ? Number(flag(argv, 'trustd-port')) : undefined,
          signal: ac.signal,
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
    default:
      process.stderr.write(`usage: bronze machined|apid|trustd [flags] (unknown role ${JSON.stringify(role ?? '')})\n`);
      return 2;
  }
}

process.exitCode = await main();
