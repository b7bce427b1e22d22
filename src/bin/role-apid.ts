import pino from 'pino';
import { runApid } from '../apid/main.js';
import { msBeforeTimeOrigin } from '../sys/procfs/stat-line.js';
import { flag, required } from './flags.js';

/** apid: the node's API gateway, configured through its socket to machined's state. */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const logger = pino({ level: 'info', base: { service: 'apid' } });
  // where the start went: before Node's time origin (exec, the binary's pages), Node's own bootstrap, then loading the
  // code (ms since the time origin)
  logger.info(
    { preOriginMs: msBeforeTimeOrigin(), nodeBootstrapMs: Math.round(performance.nodeTiming.bootstrapComplete), codeLoadedMs: Math.round(performance.now()) },
    'apid starting',
  );
  await runApid({
    stateSocket: required(argv, 'state-socket'),
    machinedSocket: required(argv, 'machined-socket'),
    peerPort: flag(argv, 'peer-port') ? Number(flag(argv, 'peer-port')) : undefined,
    logger,
    signal,
  });
  return 0;
}
