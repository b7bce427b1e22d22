import pino from 'pino';
import { startDiscoveryServer } from '../discovery/server.js';
import { required } from './flags.js';

/**
 * discovery: the cluster discovery service (`--listen host:port`), for clusters that cannot reach the public one;
 * the process provisioner runs one per cluster. It keeps nothing on disk: nodes publish again when it restarts.
 */
export async function run(argv: string[], signal: AbortSignal): Promise<number> {
  const logger = pino({ level: 'info', base: { service: 'discovery' } });
  const server = await startDiscoveryServer({ listen: required(argv, 'listen'), log: logger });
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  await server.close();
  return 0;
}
