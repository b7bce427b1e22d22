import type { Logger } from 'pino';
import { timeSyncSettings } from '../../config/time-sync.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, NetworkNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { TimeServerID, type TimeServerStatusSpec, TimeServerStatusType } from '../../resources/network/time-server-status.js';
import { TimeStatusID, type TimeStatusSpec, TimeStatusType } from '../../resources/time/time-status.js';
import { parsedConfig } from '../config/machine-config-cache.js';
import { native } from '../../platform/native.js';
import { querySNTP, type SNTPResult } from './sntp-client.js';

/** How long boot waits for the first sync when the config does not say (a server that never answers must not hold boot). */
export const DEFAULT_BOOT_TIMEOUT_MS = 120_000;

/** The clock of a metal node, through the native addon. */
export const metalClock = () => ({ adjustClock: (ms: number) => native().stepClock(ms), slewClock: (ms: number) => native().slewClock(ms) });

export interface SyncOptions {
  /** `container` (the process platform): the clock belongs to the host, sync is disabled */
  mode: 'metal' | 'container';
  /** steps the clock by this many milliseconds (metal: clock_settime through the native addon) */
  adjustClock?: (offsetMs: number) => void;
  /** moves the clock gradually by this many milliseconds, for offsets below the step threshold (metal: adjtime) */
  slewClock?: (offsetMs: number) => void;
  /** queries one server (tests point it at a loopback responder) */
  query?: (server: string, signal: AbortSignal) => Promise<SNTPResult>;
  /** offsets up to this are left alone, ms (default 128, the NTP step threshold) */
  stepThresholdMs?: number;
  /** between polls once synced, ms (default 64 s); failed rounds retry sooner, doubling from 1 s */
  pollIntervalMs?: number;
  /** when machined booted, ms since the epoch (for the boot timeout) */
  bootTime?: number;
}

/**
 * `time.SyncController`: TimeStatus `node`. With sync disabled (container mode, or the config says so) the time counts
 * as synced; otherwise an SNTP client polls the time servers of TimeServerStatus in order, steps the clock when it is
 * off by more than the threshold (each step bumps `epoch`), and reports synced after the first good answer, or once
 * the boot timeout has passed (sync goes on in the background).
 */
export class SyncController implements Controller {
  readonly name = 'time.SyncController';

  constructor(private readonly opts: SyncOptions) {}

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: TimeServerStatusType, id: TimeServerID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: TimeStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    const bootTime = this.opts.bootTime ?? Date.now();
    let synced = false;
    let epoch = 0;
    let servers: string[] = [];
    let syncer: AbortController | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const stopSyncer = () => {
      syncer?.abort();
      syncer = undefined;
    };
    try {
      for await (const _ of r.events()) {
        const status = await r.getOptional<TimeServerStatusSpec>({ namespace: NetworkNamespace, type: TimeServerStatusType, id: TimeServerID });
        if (!status) continue;
        servers = status.spec.timeServers;
        const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
        const settings = cfg ? timeSyncSettings(parsedConfig(cfg)) : undefined;
        const disabled = this.opts.mode === 'container' || settings?.disabled === true;
        const bootTimeout = settings?.bootTimeoutMs || DEFAULT_BOOT_TIMEOUT_MS;

        if (!synced && !disabled) {
          const left = bootTimeout - (Date.now() - bootTime);
          clearTimeout(timeoutTimer);
          if (left <= 0) synced = true;
          else {
            timeoutTimer = setTimeout(() => {
              if (!synced) log.warn({ bootTimeoutMs: bootTimeout }, 'time is not in sync yet: boot goes on, sync continues in the background');
              synced = true;
              r.queueReconcile();
            }, left);
          }
        }

        if (disabled) {
          stopSyncer();
          clearTimeout(timeoutTimer);
          synced = true;
        } else if (!syncer) {
          syncer = new AbortController();
          const local = syncer;
          signal.addEventListener('abort', () => local.abort(), { once: true });
          void this.syncLoop(() => servers, local.signal, log, {
            synced: () => {
              if (!synced) log.info('time is in sync');
              synced = true;
              r.queueReconcile();
            },
            stepped: () => {
              epoch++;
              r.queueReconcile();
            },
          });
        }

        const spec: TimeStatusSpec = { synced, epoch, syncDisabled: disabled };
        await r.modify<TimeStatusSpec>({ namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID }, () => spec, (o) => {
          o.spec = spec;
        });
        r.resetRestartBackoff();
      }
    } finally {
      stopSyncer();
      clearTimeout(timeoutTimer);
    }
  }

  /** Polls the servers until `signal` aborts: the first that answers is used; its offset is stepped away if too large. */
  private async syncLoop(servers: () => string[], signal: AbortSignal, log: Logger, on: { synced(): void; stepped(): void }): Promise<void> {
    const query = this.opts.query ?? ((server: string, s: AbortSignal) => querySNTP(server, { signal: s }));
    const threshold = this.opts.stepThresholdMs ?? 128;
    const poll = this.opts.pollIntervalMs ?? 64_000;
    let retry = 1000;
    while (!signal.aborted) {
      let result: SNTPResult | undefined;
      for (const server of servers()) {
        try {
          result = await query(server, signal);
          break;
        } catch (e) {
          if (signal.aborted) return;
          log.info({ server, err: (e as Error).message }, 'time server query failed');
        }
      }
      let wait: number;
      if (result) {
        if (Math.abs(result.offsetMs) <= threshold && Math.abs(result.offsetMs) >= 1 && this.opts.slewClock) {
          try {
            this.opts.slewClock(result.offsetMs);
          } catch (e) {
            log.error({ err: (e as Error).message }, 'slewing the clock failed');
          }
        } else if (Math.abs(result.offsetMs) > threshold && this.opts.adjustClock) {
          try {
            this.opts.adjustClock(result.offsetMs);
            log.info({ server: result.server, offsetMs: result.offsetMs }, 'clock stepped');
            on.stepped();
          } catch (e) {
            log.error({ err: (e as Error).message }, 'adjusting the clock failed');
          }
        }
        on.synced();
        retry = 1000;
        wait = poll;
      } else {
        wait = retry;
        retry = Math.min(retry * 2, poll);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }
}
