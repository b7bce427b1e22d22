import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TimeResponse, TimeServiceServer } from '../../api/gen/time/time.js';
import { loadConfig } from '../../config/loader.js';
import { timeSyncSettings } from '../../config/time-sync.js';
import { DEFAULT_NTP_SERVER } from '../../controllers/network/time-server-config.js';
import { querySNTP, SNTPError, type SNTPResult } from '../../controllers/time/sntp-client.js';
import { cancelSignal, GrpcStatusError, unaryHandler } from './grpc-error.js';

export interface TimeServiceDeps {
  logger: Logger;
  /** the running machine config's text; undefined without one */
  config(): Promise<string | undefined>;
  /** asks one NTP server for the time (default: the SNTP client, 5 s per query) */
  query?(server: string, signal: AbortSignal): Promise<SNTPResult>;
  /** the node's clock (tests pin it) */
  now?(): Date;
}

/** The time servers of the config (TimeSyncConfig or `machine.time`), as Talos's Time reads them. */
async function configuredServers(deps: TimeServiceDeps): Promise<string[]> {
  const text = await deps.config();
  if (!text) return [];
  try {
    return timeSyncSettings(loadConfig(text))?.servers ?? [];
  } catch {
    return [];
  }
}

/** Talos's Time answers with Unknown for what goes wrong with the server: the cause after Talos's prefix. */
function queryError(server: string, e: unknown): GrpcStatusError {
  const code = e instanceof SNTPError ? e.code : undefined;
  const dns = (e as { cause?: NodeJS.ErrnoException & { hostname?: string } })?.cause;
  let message = ((e as Error)?.message ?? String(e)).replace(`${server}: `, '');
  // a name that does not resolve, in Go's resolver's words (Node's getaddrinfo codes read as a transport failure)
  if (code === 'BRONZE_SNTP_RESOLVE' && dns?.code === 'ENOTFOUND') message = `lookup ${dns.hostname ?? server}: no such host`;
  else if (code === 'BRONZE_SNTP_RESOLVE' && dns?.code === 'EAI_AGAIN') message = `lookup ${dns.hostname ?? server}: temporary failure in name resolution`;
  if (code === 'BRONZE_SNTP_KISS_OF_DEATH' || code === 'BRONZE_SNTP_UNSYNCHRONIZED') return new GrpcStatusError(status.UNKNOWN, `error validating NTP response: ${message}`);
  return new GrpcStatusError(status.UNKNOWN, `error querying NTP server "${server}": ${message}`);
}

const toStatus = (e: unknown) =>
  e instanceof GrpcStatusError ? { code: e.grpcCode, details: e.message } : { code: status.INTERNAL, details: (e as Error)?.message ?? String(e) };

/**
 * machined's `time.TimeService`: `Time` asks the first time server of the config (time.cloudflare.com when it names
 * none; servers learned over DHCP are not used, as in Talos), `TimeCheck` the server of the request; both answer the
 * node's time next to the server's transmit time.
 */
export function timeService(deps: TimeServiceDeps): TimeServiceServer {
  const query = deps.query ?? ((server: string, signal: AbortSignal) => querySNTP(server, { signal }));
  const now = deps.now ?? (() => new Date());
  const check = async (server: string, signal: AbortSignal): Promise<TimeResponse> => {
    if (server === '') throw new GrpcStatusError(status.INVALID_ARGUMENT, 'ntp server is required');
    if (server.startsWith('/dev/ptp')) throw new GrpcStatusError(status.UNKNOWN, `error querying PTP device "${server}": PTP devices are not supported`);
    let result: SNTPResult;
    try {
      result = await query(server, signal);
    } catch (e) {
      throw queryError(server, e);
    }
    return { messages: [{ metadata: undefined, server, localtime: now(), remotetime: result.serverTime }] };
  };
  const log = deps.logger;
  return {
    time: unaryHandler(log, toStatus, async (_req, call) => check((await configuredServers(deps))[0] ?? DEFAULT_NTP_SERVER, cancelSignal(call))),
    timeCheck: unaryHandler(log, toStatus, async (req, call) => check(req.server, cancelSignal(call))),
  };
}
