import pino from 'pino';
import { runTrustd } from '../trustd/main.js';
import { required } from './flags.js';

/** trustd: signs the certificates of joining nodes. */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const logger = pino({ level: 'info', base: { service: 'trustd' } });
  await runTrustd({ stateSocket: required(argv, 'state-socket'), listen: required(argv, 'listen'), logger, signal, onServing: (port) => logger.info({ port }, 'trustd serving') });
  return 0;
}
