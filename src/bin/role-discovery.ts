import pino from 'pino';
import { startDiscoveryServer } from '../discovery/server.js';
import { flag, required } from './flags.js';

/**
 * discovery: the cluster discovery service (`--listen host:port`, logging to `--log FILE` or stdout), for clusters
 * that cannot reach the public one; the provisioners run one per cluster. It keeps nothing on disk: nodes publish
 * again when it restarts.
 */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const file = flag(argv, 'log');
  const logger = pino({ level: 'info', base: { service: 'discovery' } }, file ? pino.destination({ dest: file, append: true, sync: true }) : undefined);
  const server = await startDiscoveryServer({ listen: required(argv, 'listen'), log: logger });
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  await server.close();
  return 0;
}
