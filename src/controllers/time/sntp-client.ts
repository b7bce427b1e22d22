import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Seconds between the NTP era (1900-01-01) and the Unix epoch. */
const NTP_UNIX_OFFSET = 2_208_988_800;
const PACKET_SIZE = 48;
const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;

export class SNTPError extends Error {
  constructor(
    readonly code: 'BRONZE_SNTP_TIMEOUT' | 'BRONZE_SNTP_INVALID' | 'BRONZE_SNTP_KISS_OF_DEATH' | 'BRONZE_SNTP_UNSYNCHRONIZED' | 'BRONZE_SNTP_RESOLVE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SNTPError';
  }
}

/** The result of one exchange with a server (RFC 4330 §5). */
export interface SNTPResult {
  server: string;
  address: string;
  /** how far the local clock is behind the server, in milliseconds (add it to local time to get server time) */
  offsetMs: number;
  /** round-trip delay, in milliseconds */
  delayMs: number;
  stratum: number;
  leap: number;
  /** the server's time when it sent its answer */
  serverTime: Date;
  /** the server's reference identifier (an IPv4 address, or 4 ASCII characters for stratum 1) */
  referenceId: string;
  /** root delay + root dispersion of the server, milliseconds */
  rootDistanceMs: number;
}

export interface QueryOptions {
  /** default 123 */
  port?: number;
  /** per-query timeout, default 5 s */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** the local clock in milliseconds since the Unix epoch (tests inject one) */
  now?: () => number;
}

/** Writes a Unix time in milliseconds as a 64-bit NTP timestamp. */
export function writeTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32) >>> 0;
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(fraction, offset + 4);
}

/**
 * Reads a 64-bit NTP timestamp as Unix milliseconds. As RFC 4330 §3 says, a clear top bit means era 1 (from
 * 2036-02-07 on), so times from 1968 to 2104 read right. An all-zero timestamp stays 0.
 */
export function readTimestamp(buf: Buffer, offset: number): number {
  const raw = buf.readUInt32BE(offset);
  const fraction = buf.readUInt32BE(offset + 4);
  if (raw === 0 && fraction === 0) return 0;
  const seconds = raw < 0x80000000 ? raw + 2 ** 32 : raw;
  return (seconds - NTP_UNIX_OFFSET) * 1000 + (fraction / 2 ** 32) * 1000;
}

function readShortFormat(buf: Buffer, offset: number): number {
  return (buf.readUInt16BE(offset) + buf.readUInt16BE(offset + 2) / 65536) * 1000;
}

/** Builds a client request: LI 0, version 4, mode 3, transmit timestamp = the local send time. */
export function buildRequest(sendMs: number): Buffer {
  const b = Buffer.alloc(PACKET_SIZE);
  b[0] = (0 << 6) | (VERSION << 3) | MODE_CLIENT;
  writeTimestamp(b, 40, sendMs);
  return b;
}

/** Checks and evaluates a server reply to a request sent at `t1` and received at `t4` (local milliseconds). */
export function parseReply(reply: Buffer, request: Buffer, t1: number, t4: number, server: string, address: string): SNTPResult {
  if (reply.length < PACKET_SIZE) throw new SNTPError('BRONZE_SNTP_INVALID', `${server}: short reply (${reply.length} bytes)`);
  const leap = reply[0]! >> 6;
  const mode = reply[0]! & 0x7;
  const stratum = reply[1]!;
  if (mode !== MODE_SERVER) throw new SNTPError('BRONZE_SNTP_INVALID', `${server}: reply mode ${mode}, expected ${MODE_SERVER}`);
  if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) {
    throw new SNTPError('BRONZE_SNTP_INVALID', `${server}: reply does not answer our request (originate timestamp mismatch)`);
  }
  const refBytes = reply.subarray(12, 16);
  const referenceId = stratum <= 1 ? refBytes.toString('latin1').replace(/\0+$/, '') : [...refBytes].join('.');
  if (stratum === 0) throw new SNTPError('BRONZE_SNTP_KISS_OF_DEATH', `${server}: kiss-o'-death "${refBytes.toString('latin1').replace(/\0+$/, '')}"`);
  if (leap === 3) throw new SNTPError('BRONZE_SNTP_UNSYNCHRONIZED', `${server}: server clock is not synchronized`);
  if (stratum > 15) throw new SNTPError('BRONZE_SNTP_INVALID', `${server}: invalid stratum ${stratum}`);
  const t2 = readTimestamp(reply, 32);
  const t3 = readTimestamp(reply, 40);
  if (t3 === 0) throw new SNTPError('BRONZE_SNTP_INVALID', `${server}: zero transmit timestamp`);
  const offsetMs = (t2 - t1 + (t3 - t4)) / 2;
  const delayMs = Math.max(0, t4 - t1 - (t3 - t2));
  const rootDistanceMs = readShortFormat(reply, 4) / 2 + readShortFormat(reply, 8);
  return { server, address, offsetMs, delayMs, stratum, leap, serverTime: new Date(t3), referenceId, rootDistanceMs };
}

async function resolve(server: string): Promise<{ address: string; family: 4 | 6 }> {
  const v = isIP(server);
  if (v !== 0) return { address: server, family: v as 4 | 6 };
  try {
    const r = await lookup(server);
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (e) {
    throw new SNTPError('BRONZE_SNTP_RESOLVE', `${server}: cannot resolve: ${(e as Error).message}`, { cause: e });
  }
}

/** Asks one server for the time (one request, one reply, bounded by a timeout). */
export async function querySNTP(server: string, opts: QueryOptions = {}): Promise<SNTPResult> {
  const now = opts.now ?? Date.now;
  const hostPort = /^\[(.+)\]:(\d+)$/.exec(server) ?? (isIP(server) === 6 ? null : /^([^:]+):(\d+)$/.exec(server));
  const host = hostPort ? hostPort[1]! : server.replace(/^\[|\]$/g, '');
  const port = hostPort ? Number(hostPort[2]) : (opts.port ?? 123);
  const { address, family } = await resolve(host);
  const socket: Socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<SNTPResult>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new SNTPError('BRONZE_SNTP_TIMEOUT', `${server}: no reply within ${opts.timeoutMs ?? 5000} ms`)), opts.timeoutMs ?? 5000);
      const onAbort = () => reject(opts.signal?.reason ?? new Error('aborted'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const t1 = now();
      const request = buildRequest(t1);
      socket.on('message', (msg, rinfo) => {
        if (rinfo.address !== address || rinfo.port !== port) return; // not our server
        const t4 = now();
        try {
          const r = parseReply(msg, request, t1, t4, server, address);
          cleanup();
          resolvePromise(r);
        } catch (e) {
          // a reply that does not match our request is ignored (it may be a late or spoofed one); others fail
          if (e instanceof SNTPError && /originate timestamp mismatch/.test(e.message)) return;
          cleanup();
          reject(e);
        }
      });
      socket.on('error', (e) => {
        cleanup();
        reject(e);
      });
      socket.send(request, port, address);
    });
  } finally {
    socket.close();
  }
}
