import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type sendUnaryData, type ServerUnaryCall, status } from '@grpc/grpc-js';
import pino from 'pino';
import type { Empty } from '../../api/gen/google/protobuf/empty.js';
import type { TimeRequest, TimeResponse } from '../../api/gen/time/time.js';
import { SNTPError, type SNTPResult } from '../../controllers/time/sntp-client.js';
import { timeService } from './time-service.js';

const NOW = new Date('2026-11-20T10:00:00.000Z');
const REMOTE = new Date('2026-11-20T10:00:01.250Z');
const result = (server: string): SNTPResult => ({ server, address: '192.0.2.1', offsetMs: 1250, delayMs: 3, stratum: 2, leap: 0, serverTime: REMOTE, referenceId: '', rootDistanceMs: 1 });

/** Calls a unary handler as grpc-js would, resolving with the answer or rejecting with the status. */
function call<Req>(handler: (c: ServerUnaryCall<Req, TimeResponse>, cb: sendUnaryData<TimeResponse>) => void, request: Req): Promise<TimeResponse> {
  return new Promise((resolve, reject) => {
    const c = { request, on: () => c, getPath: () => '/time.TimeService/x' } as unknown as ServerUnaryCall<Req, TimeResponse>;
    handler(c, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

const config = (time: string) => `version: v1alpha1\nmachine:\n  type: worker\n${time}cluster: {}\n`;

describe('time.TimeService', () => {
  const asked: string[] = [];
  const svc = (text: string | undefined, query?: (server: string) => Promise<SNTPResult>) =>
    timeService({
      logger: pino({ level: 'silent' }),
      config: async () => text,
      now: () => NOW,
      query: async (server) => {
        asked.push(server);
        return query ? query(server) : result(server);
      },
    });

  it('Time asks the first server of the config and answers both clocks', async () => {
    asked.length = 0;
    const r = await call<Empty>(svc(config('  time:\n    servers: [ntp1.example.org, ntp2.example.org]\n')).time, {});
    assert.deepEqual(asked, ['ntp1.example.org']);
    assert.deepEqual(r, { messages: [{ metadata: undefined, server: 'ntp1.example.org', localtime: NOW, remotetime: REMOTE }] });
  });

  it('Time falls back to time.cloudflare.com without a config or servers, and reads a TimeSyncConfig document', async () => {
    asked.length = 0;
    await call<Empty>(svc(undefined).time, {});
    await call<Empty>(svc(config('')).time, {});
    await call<Empty>(svc(`${config('')}---\napiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [10.0.0.1]\n`).time, {});
    assert.deepEqual(asked, ['time.cloudflare.com', 'time.cloudflare.com', '10.0.0.1']);
  });

  it('TimeCheck asks the given server; an empty one is InvalidArgument', async () => {
    asked.length = 0;
    const r = await call<TimeRequest>(svc(undefined).timeCheck, { server: '127.0.0.1:1123' });
    assert.equal(r.messages[0]!.server, '127.0.0.1:1123');
    assert.deepEqual(asked, ['127.0.0.1:1123']);
    await assert.rejects(call<TimeRequest>(svc(undefined).timeCheck, { server: '' }), { code: status.INVALID_ARGUMENT, details: 'ntp server is required' });
  });

  it('a server that fails is Unknown with Talos prefixes: querying, or validating the answer', async () => {
    const timeout = svc(undefined, (s) => Promise.reject(new SNTPError('BRONZE_SNTP_TIMEOUT', `${s}: no reply within 5000 ms`)));
    await assert.rejects(call<TimeRequest>(timeout.timeCheck, { server: 'ntp.invalid' }), { code: status.UNKNOWN, details: 'error querying NTP server "ntp.invalid": no reply within 5000 ms' });
    const kod = svc(undefined, (s) => Promise.reject(new SNTPError('BRONZE_SNTP_KISS_OF_DEATH', `${s}: kiss-o'-death "RATE"`)));
    await assert.rejects(call<TimeRequest>(kod.timeCheck, { server: 'ntp.example.org' }), { code: status.UNKNOWN, details: 'error validating NTP response: kiss-o\'-death "RATE"' });
    const nxdomain = Object.assign(new Error('getaddrinfo ENOTFOUND ntp.invalid'), { code: 'ENOTFOUND', hostname: 'ntp.invalid' });
    const dns = svc(undefined, (s) => Promise.reject(new SNTPError('BRONZE_SNTP_RESOLVE', `${s}: cannot resolve: ${nxdomain.message}`, { cause: nxdomain })));
    await assert.rejects(call<TimeRequest>(dns.timeCheck, { server: 'ntp.invalid' }), { code: status.UNKNOWN, details: 'error querying NTP server "ntp.invalid": lookup ntp.invalid: no such host' });
    await assert.rejects(call<TimeRequest>(svc(undefined).timeCheck, { server: '/dev/ptp0' }), { code: status.UNKNOWN, details: 'error querying PTP device "/dev/ptp0": PTP devices are not supported' });
  });
});
