import pino from 'pino';
import { runApid } from '../apid/main.js';
import { flag, required } from './flags.js';

/** apid: the node's API gateway, configured through its socket to machined's state. */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const logger = pino({ level: 'info', base: { service: 'apid' } });
  await runApid({
    stateSocket: required(argv, 'state-socket'),
    machinedSocket: required(argv, 'machined-socket'),
    peerPort: flag(argv, 'peer-port') ? Number(flag(argv, 'peer-port')) : undefined,
    logger,
    signal,
  });
  return 0;
}
