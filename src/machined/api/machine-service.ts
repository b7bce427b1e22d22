import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { type ServerUnaryCall, type ServerWritableStream, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Data } from '../../api/gen/common/common.js';
import { ContainerDriver } from '../../api/gen/common/common.js';
import type {
  ApplyConfiguration,
  ApplyConfigurationRequest,
  CopyRequest,
  DiskUsageInfo,
  DiskUsageRequest,
  DmesgRequest,
  Event,
  EventsRequest,
  FileInfo,
  GenerateClientConfigurationRequest,
  ListRequest,
  LogsRequest,
  MetaDeleteRequest,
  MetaWriteRequest,
  MachineServiceServer,
  NetstatRequest,
  ReadRequest,
  RebootRequest,
  ResetRequest,
  ServiceInfo,
  ShutdownRequest,
} from '../../api/gen/machine/machine.js';
import { MachineServiceService } from '../../api/gen/machine/machine.js';
import * as procfs from '../../sys/procfs/index.js';
import { diskUsage } from '../../sys/files/disk-usage.js';
import { listFiles } from '../../sys/files/list.js';
import { tarGz } from '../../sys/files/tar.js';
import { goPathError } from '../../sys/files/go-error.js';
import type { BuildInfo } from '../../version.js';
import { type EventStream, helloEvent, toMachineEvent } from '../events/index.js';
import type { LogManager } from '../logs/index.js';
import { unaryHandler } from './grpc-error.js';

/** What the MachineService handlers read from the rest of machined. */
export interface MachineServiceDeps {
  logger: Logger;
  build: BuildInfo;
  /** `Version.platform` (e.g. `metal`/`metal`; the process platform reports `container`-like `process`/`process`) */
  platform: { name: string; mode: string };
  /** whether a machine config is loaded (the RBAC feature is reported only then) */
  configured(): boolean;
  /** the node's hostname as the network controllers set it */
  hostname?(): Promise<string>;
  logs: LogManager;
  /** the log of a container outside the system namespace (Kubernetes' containers) */
  containerLogs?(req: { namespace: string; driver: ContainerDriver; id: string; follow: boolean; tailLines: number }, signal: AbortSignal): AsyncIterable<Buffer>;
  events: EventStream;
  /** handlers of later parts of machined (apply, services, reboot ...) override the defaults */
  overrides?: Partial<MachineServiceServer>;
  /** the service supervisor: ServiceList, ServiceStart/Stop/Restart */
  services?: {
    listProto(): ServiceInfo[];
    apiStart(id: string): Promise<void>;
    apiStop(id: string): Promise<void>;
    apiRestart(id: string): Promise<void>;
  };
  /** ApplyConfiguration (a ConfigApplier); its errors carry a gRPC code as `grpcCode` */
  apply?(req: ApplyConfigurationRequest): Promise<ApplyConfiguration>;
  /** Reboot, Shutdown and Reset: each validates, starts its sequence in the background and returns its actor id */
  lifecycle?: {
    reboot(req: RebootRequest): string;
    shutdown(req: ShutdownRequest): string;
    reset(req: ResetRequest): string;
  };
  /**
   * Files whose content belongs to the node rather than to the machine it runs on (the process platform: its own
   * boot id, which changes with every reboot of the node, as talosctl's reboot tracking expects); Read serves these
   */
  nodeFiles?: Record<string, () => Buffer>;
  /** GenerateClientConfiguration (control planes) */
  clientConfiguration?(req: GenerateClientConfigurationRequest): Promise<{ ca: Buffer; crt: Buffer; key: Buffer; talosconfig: Buffer }>;
  /** Kubeconfig (control planes): the gzip'd tar holding `kubeconfig` */
  kubeconfig?(): Promise<Buffer>;
  /** MetaWrite / MetaDelete: the META store (its errors carry Talos's gRPC codes) */
  meta?: { set(tag: number, value: Uint8Array): Promise<void>; delete(tag: number): Promise<void> };
  /** the kernel log (metal: /dev/kmsg); undefined where there is none (process platform) */
  dmesg?(req: DmesgRequest, signal: AbortSignal): AsyncIterable<Buffer>;
}

type GrpcError = { code: status; details: string };

class ApiError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
  }
}


const unary = <Req, Res>(log: Logger, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) => unaryHandler<Req, Res>(log, toGrpc, fn);

function toGrpc(e: unknown): GrpcError {
  if (e instanceof Error && typeof (e as { grpcCode?: unknown }).grpcCode === 'number') return { code: (e as unknown as { grpcCode: status }).grpcCode, details: e.message };
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return { code: status.NOT_FOUND, details: (e as Error).message };
  if (code === 'EACCES' || code === 'EPERM') return { code: status.PERMISSION_DENIED, details: (e as Error).message };
  return { code: status.INTERNAL, details: (e as Error)?.message ?? String(e) };
}

/** Writes an async sequence of messages to a server stream, honouring backpressure and cancellation. */
function stream<Req, Res>(log: Logger, fn: (req: Req, signal: AbortSignal) => AsyncIterable<Res> | Promise<AsyncIterable<Res>>) {
  return (call: ServerWritableStream<Req, Res>) => {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort());
    void (async () => {
      try {
        for await (const m of await fn(call.request, ac.signal)) {
          if (call.cancelled) break;
          if (!call.write(m)) await new Promise((ok) => call.once('drain', ok));
        }
        call.end();
      } catch (e) {
        if (ac.signal.aborted) return;
        const err = toGrpc(e);
        if (err.code === status.INTERNAL) log.error({ method: call.getPath(), err: err.details }, 'stream failed');
        call.emit('error', err);
      } finally {
        ac.abort();
      }
    })();
  };
}

/** What RPCs of parts machined does not have yet answer: Unimplemented, naming what is missing. */
const LATER: Record<string, string> = {
  upgrade: 'upgrades (the installer) are not available yet',
  rollback: 'upgrades (A/B boot) are not available yet',
  packetCapture: 'packet capture is not available yet',
};

/**
 * machined's `machine.MachineService`. Every RPC answers: the system ones read /proc and /sys, the file ones the
 * node's filesystem, Logs and Events the service logs and the event stream; later parts of machined plug their
 * handlers in through `overrides`; RPCs whose part does not exist yet answer Unimplemented, saying what is missing.
 * Unary answers always carry exactly one `messages` element (apid's fan-out relies on it).
 */
export function machineService(d: MachineServiceDeps): MachineServiceServer & UntypedServiceImplementation {
  const log = d.logger;
  const one = <T>(x: T) => ({ messages: [{ metadata: undefined, ...x }] });
  const impl: Record<string, unknown> = {};
  for (const key of Object.keys(MachineServiceService)) {
    const def = MachineServiceService[key as keyof typeof MachineServiceService];
    const what = LATER[key] ?? 'this part of the node is not available yet';
    const err = { code: status.UNIMPLEMENTED, details: `${def.path.slice(def.path.lastIndexOf('/') + 1)} is not implemented: ${what}` };
    impl[key] = def.responseStream ? (call: { emit(e: string, x: unknown): void }) => call.emit('error', err) : (_call: unknown, cb: (e: unknown) => void) => cb(err);
  }

  const handlers: Partial<MachineServiceServer> = {
    version: unary(log, async () =>
      one({
        version: { tag: d.build.tag, sha: d.build.sha, built: d.build.built, goVersion: d.build.runtime, os: d.build.os, arch: d.build.arch },
        platform: d.platform,
        features: d.configured() ? { rbac: true } : undefined,
      }),
    ),
    hostname: unary(log, async () => one({ hostname: d.hostname ? await d.hostname() : osHostname() })),
    memory: unary(log, async () => one({ meminfo: await procfs.readMemInfo() })),
    cpuInfo: unary(log, async () => one({ cpuInfo: await procfs.readCPUInfo() })),
    cpuFreqStats: unary(log, async () => one({ cpuFreqStats: await procfs.readCPUFreqStats() })),
    systemStat: unary(log, async () => one(await procfs.readSystemStat())),
    loadAvg: unary(log, async () => one(await procfs.readLoadAvg())),
    processes: unary(log, async () => one({ processes: await procfs.readProcesses() })),
    mounts: unary(log, async () => {
      const m = await procfs.readMounts();
      for (const e of m.errors) log.debug({ err: e.message }, 'mount not measured');
      return one({ stats: m.stats });
    }),
    diskStats: unary(log, async () => one(await procfs.readDiskStats())),
    networkDeviceStats: unary(log, async () => one(await procfs.readNetDev())),
    netstat: unary(log, async (req: NetstatRequest) => {
      const l4 = req.l4proto;
      const tables = (['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'] as const).filter((t) => l4?.[t]);
      const records = await procfs.readNetstat({
        filter: req.filter,
        tables: [...tables],
        pid: req.feature?.pid ?? false,
        hostNetwork: req.netns ? req.netns.hostnetwork : true,
        netns: req.netns?.netns ?? [],
        allNetns: req.netns?.allnetns ?? false,
      });
      return one({ connectrecord: records });
    }),
    list: stream<ListRequest, FileInfo>(log, (req, signal) => listFiles(req, signal)),
    diskUsage: stream<DiskUsageRequest, DiskUsageInfo>(log, (req, signal) => diskUsage(req, signal)),
    read: stream<ReadRequest, Data>(log, async function* (req, signal) {
      let data: Buffer;
      const own = d.nodeFiles?.[req.path];
      try {
        data = own ? own() : await readFile(req.path, { signal });
      } catch (e) {
        throw new ApiError((e as NodeJS.ErrnoException).code === 'ENOENT' ? status.NOT_FOUND : status.INVALID_ARGUMENT, goPathError('open', req.path, e));
      }
      for (let off = 0; off < data.length; off += 1024) yield { metadata: undefined, bytes: data.subarray(off, off + 1024) };
    }),
    copy: stream<CopyRequest, Data>(log, async function* (req, signal) {
      const archive = await tarGz(req.rootPath, { signal });
      for await (const chunk of archive.stream) yield { metadata: undefined, bytes: chunk as Buffer };
      const result = await archive.result;
      for (const e of result.errors) log.warn({ path: req.rootPath, err: e }, 'copy skipped an entry');
    }),
    logs: stream<LogsRequest, Data>(log, async function* (req, signal) {
      if (req.namespace === '') throw new ApiError(status.INVALID_ARGUMENT, 'namespace is required');
      // the system namespace's logs and the kubelet's are service logs; the others are the containers' own
      if (req.namespace !== 'system' && req.id !== 'kubelet') {
        if (!d.containerLogs) throw new ApiError(status.UNIMPLEMENTED, `logs of ${req.namespace} containers are not available on this node (no containerd)`);
        for await (const chunk of d.containerLogs(req, signal)) yield { metadata: undefined, bytes: chunk };
        return;
      }
      const buffer = d.logs.registered().includes(req.id) ? d.logs.get(req.id) : undefined;
      if (!buffer) throw new ApiError(status.NOT_FOUND, `log "${req.id}" was not registered`);
      for await (const chunk of buffer.read({ tailLines: req.tailLines >= 0 ? req.tailLines : undefined, follow: req.follow, signal })) yield { metadata: undefined, bytes: chunk };
    }),
    logsContainers: unary(log, async () => one({ ids: d.logs.registered().sort() })),
    events: stream<EventsRequest, Event>(log, async function* (req, signal) {
      const w = d.events.watch({ tailEvents: req.tailEvents, tailId: req.tailId || undefined, tailSeconds: req.tailSeconds || undefined, actorId: req.withActorId || undefined, signal });
      yield helloEvent(d.events, req.withActorId);
      for await (const e of w) yield toMachineEvent(e);
    }),
    dmesg: stream<DmesgRequest, Data>(log, async function* (req, signal) {
      if (!d.dmesg) throw new ApiError(status.UNIMPLEMENTED, 'the kernel log is not available on this platform (a process node has no kernel of its own)');
      for await (const chunk of d.dmesg(req, signal)) yield { metadata: undefined, bytes: chunk };
    }),
    ...(d.services ? serviceHandlers(log, d.services) : {}),
    ...(d.lifecycle ? lifecycleHandlers(log, d.lifecycle) : {}),
    ...(d.meta
      ? {
          metaWrite: unary(log, async (req: MetaWriteRequest) => {
            await d.meta!.set(req.key, req.value);
            return one({});
          }),
          metaDelete: unary(log, async (req: MetaDeleteRequest) => {
            await d.meta!.delete(req.key);
            return one({});
          }),
        }
      : {}),
    ...(d.clientConfiguration ? { generateClientConfiguration: unary(log, async (req: GenerateClientConfigurationRequest) => one(await d.clientConfiguration!(req))) } : {}),
    ...(d.kubeconfig ? { kubeconfig: stream<unknown, Data>(log, async function* () {
      yield { metadata: undefined, bytes: await d.kubeconfig!() };
    }) } : {}),
    ...(d.apply ? { applyConfiguration: unary(log, async (req: ApplyConfigurationRequest) => ({ messages: [await d.apply!(req)] })) } : {}),
    ...d.overrides,
  };
  Object.assign(impl, handlers);
  return impl as unknown as MachineServiceServer & UntypedServiceImplementation;
}


/** ServiceList and the API's start/stop/restart of services, with Talos's answers. */
function serviceHandlers(log: Logger, sv: NonNullable<MachineServiceDeps['services']>): Partial<MachineServiceServer> {
  const one = <T>(x: T) => ({ messages: [{ metadata: undefined, ...x }] });
  const act = (op: 'start' | 'stop' | 'restart', fn: (id: string) => Promise<void>) =>
    unary(log, async (req: { id: string }) => {
      try {
        await fn(req.id);
      } catch (e) {
        // the supervisor's refusals (unknown service, operation not allowed) are the caller's mistakes
        throw new ApiError(status.INVALID_ARGUMENT, (e as Error).message);
      }
      return one({ resp: `Service ${JSON.stringify(req.id)} ${{ start: 'started', stop: 'stopped', restart: 'restarted' }[op]}` });
    });
  return {
    serviceList: unary(log, async () => one({ services: sv.listProto() })),
    serviceStart: act('start', (id) => sv.apiStart(id)),
    serviceStop: act('stop', (id) => sv.apiStop(id)),
    serviceRestart: act('restart', (id) => sv.apiRestart(id)),
  };
}

/** Reboot, Shutdown and Reset: the sequence runs in the background; the answer carries its actor id at once. */
function lifecycleHandlers(log: Logger, lc: NonNullable<MachineServiceDeps['lifecycle']>): Partial<MachineServiceServer> {
  const one = (actorId: string) => ({ messages: [{ metadata: undefined, actorId }] });
  return {
    reboot: unary(log, async (req: RebootRequest) => {
      const actorId = lc.reboot(req);
      log.info({ actorId }, 'reboot via API received');
      return one(actorId);
    }),
    shutdown: unary(log, async (req: ShutdownRequest) => {
      const actorId = lc.shutdown(req);
      log.info({ actorId }, 'shutdown via API received');
      return one(actorId);
    }),
    reset: unary(log, async (req: ResetRequest) => {
      const actorId = lc.reset(req);
      log.info({ actorId }, 'reset request received');
      return one(actorId);
    }),
  };
}
