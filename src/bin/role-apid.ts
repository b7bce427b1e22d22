import pino from 'pino';
import { runApid } from '../apid/main.js';
import { flag, required } from './flags.js';

/** apid: the node's API gateway, configured through its socket to machined's state. */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const logger = pino({ level: 'info', base: { service: 'apid' } });
  // where the start went: Node's own bootstrap, then loading the code (ms since the process began)
  logger.info({ nodeBootstrapMs: Math.round(performance.nodeTiming.bootstrapComplete), codeLoadedMs: Math.round(performance.now()) }, 'apid starting');
  await runApid({
    stateSocket: required(argv, 'state-socket'),
    machinedSocket: required(argv, 'machined-socket'),
    peerPort: flag(argv, 'peer-port') ? Number(flag(argv, 'peer-port')) : undefined,
    logger,
    signal,
  });
  return 0;
}
