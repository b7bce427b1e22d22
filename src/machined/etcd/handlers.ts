import { createWriteStream, existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type sendUnaryData, type ServerReadableStream, type ServerWritableStream, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Data } from '../../api/gen/common/common.js';
import { AlarmType, type Member, type StatusResponse } from '../../api/gen/etcd/rpc.js';
import { type BootstrapRequest, type EtcdMemberAlarm, EtcdMemberAlarm_AlarmType, type EtcdMemberListRequest, type EtcdRecoverResponse, type EtcdRemoveMemberByIDRequest, type MachineServiceServer } from '../../api/gen/machine/machine.js';
import type { State } from '../../cosi/state.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { formatMemberID } from '../../resources/etcd/member.js';
import { ConfigNamespace, RuntimeNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { EtcdRootID, type EtcdRootSpec, EtcdRootType } from '../../resources/secrets/etcd-root.js';
import { TimeStatusID, type TimeStatusSpec, TimeStatusType } from '../../resources/time/time-status.js';
import { cancelSignal, GrpcStatusError, unaryHandler } from '../api/grpc-error.js';
import type { ServiceDefinition } from '../supervisor/index.js';
import { ServiceState } from '../supervisor/index.js';
import { localClientEndpoint, type EtcdPaths } from './args.js';
import { EtcdClient, EtcdError } from './client.js';
import { adminTLS, EtcdNotReadyError, etcdSpec } from './local.js';
import { controlPlaneEtcdEndpoints } from './peers.js';

/** What the etcd handlers use of machined. */
export interface EtcdHandlersDeps {
  state: State;
  logger: Logger;
  paths: EtcdPaths;
  supervisor: {
    get(id: string): { getState(): ServiceState; updateState(s: ServiceState, msg: string): void };
    list(): { id: string }[];
    stop(...ids: string[]): Promise<void>;
    unload(...ids: string[]): Promise<void>;
    loadAndStart(...defs: ServiceDefinition[]): Promise<void>;
  };
  /** the etcd service to run after `Bootstrap` */
  bootstrapService(o: { recover?: { skipHashCheck: boolean } }): ServiceDefinition;
  /** how long Bootstrap waits for the time to be synced (default 5000 ms, as Talos) */
  timeSyncWaitMs?: number;
}

/** etcd's alarm as Talos's. */
const memberAlarm = (a: { memberID: string; alarm: AlarmType }): EtcdMemberAlarm => ({
  memberId: a.memberID,
  alarm: a.alarm === AlarmType.NOSPACE ? EtcdMemberAlarm_AlarmType.NOSPACE : a.alarm === AlarmType.CORRUPT ? EtcdMemberAlarm_AlarmType.CORRUPT : EtcdMemberAlarm_AlarmType.NONE,
});

const one = <T>(x: T) => ({ messages: [{ metadata: undefined, ...x }] });

/** etcd's and our errors as gRPC statuses: etcd's own code and message pass through. */
function toStatus(e: unknown): { code: status; details: string } {
  if (e instanceof GrpcStatusError) return { code: e.grpcCode, details: e.message };
  if (e instanceof EtcdError) return { code: e.grpcCode, details: e.details };
  if (e instanceof EtcdNotReadyError) return { code: status.FAILED_PRECONDITION, details: e.message };
  return { code: status.INTERNAL, details: (e as Error)?.message ?? String(e) };
}

const unary = <Req, Res>(log: Logger, fn: (req: Req, signal: AbortSignal) => Promise<Res>) =>
  unaryHandler<Req, Res>(log, toStatus, (req, call) => fn(req, cancelSignal(call)), 'etcd handler failed');

/** A failure whose message says what went wrong, as Talos wraps etcd's errors ("failed to ...: etcdserver: ..."). */
const wrap = (what: string) => (e: unknown) => {
  if (e instanceof EtcdError) return Promise.reject(new GrpcStatusError(e.grpcCode === status.NOT_FOUND ? status.NOT_FOUND : status.INTERNAL, `${what}: ${e.details}`));
  return Promise.reject(e);
};

/**
 * Bootstrap and the etcd RPCs of MachineService, as Talos answers them: control planes only, against the node's own
 * member (status, alarms, defragment, snapshot) or the cluster through it and the other control planes (members,
 * leave, remove, forfeit leadership).
 */
function etcdOperations(d: EtcdHandlersDeps): { handlers: Partial<MachineServiceServer>; leave: (signal: AbortSignal) => Promise<void> } {
  const log = d.logger;

  const checkControlPlane = async (api: string) => {
    const t = (await d.state.get({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }).catch(() => undefined))?.spec as MachineTypeSpec | undefined;
    if (!t) throw new GrpcStatusError(status.UNIMPLEMENTED, `machine type is not set, cannot use ${api} API`);
    if (!isControlPlane(t.type)) throw new GrpcStatusError(status.UNIMPLEMENTED, `${api} is only available on control plane nodes`);
  };

  const local = async () => {
    const [tls, spec] = await Promise.all([adminTLS(d.state), etcdSpec(d.state)]);
    return { client: new EtcdClient([localClientEndpoint(spec)], tls), spec, tls };
  };

  /** The node's own member first, then the other control planes. */
  const cluster = async () => {
    const [tls, spec] = await Promise.all([adminTLS(d.state), etcdSpec(d.state)]);
    const others = await controlPlaneEtcdEndpoints(d.state, spec.advertisedAddresses);
    return new EtcdClient([localClientEndpoint(spec), ...others], tls);
  };

  const withClient = async <T>(make: () => Promise<EtcdClient>, fn: (c: EtcdClient) => Promise<T>): Promise<T> => {
    const c = await make();
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };

  /** The id of the node's own member, from its status. */
  const localMemberID = async (signal: AbortSignal): Promise<{ id: string; status: StatusResponse }> => {
    const { client } = await local();
    try {
      const s = await client.status({ signal, timeoutMs: 5000 });
      return { id: s.header?.memberId ?? '0', status: s };
    } catch (e) {
      if (e instanceof EtcdError && e.grpcCode === status.UNAVAILABLE) throw new GrpcStatusError(status.FAILED_PRECONDITION, `etcd is not running on this node: ${e.details}`);
      throw e;
    } finally {
      client.close();
    }
  };

  /** Whether a member answers its status on one of its client URLs (a started, reachable member). */
  const answers = async (c: EtcdClient, m: Member, signal: AbortSignal): Promise<boolean> => {
    for (const u of m.clientURLs) {
      try {
        await c.at(u).status({ signal, timeoutMs: 3000 });
        return true;
      } catch {
        // try the next URL
      }
    }
    return false;
  };

  /**
   * Before a member is removed, leadership moves away from it: a leader that commits its own removal and stops may
   * leave the others never learning the change was committed (in a cluster of two, the last member waits for a
   * quorum of two forever).
   */
  const handOffLeadership = async (c: EtcdClient, members: Member[], id: string, signal: AbortSignal) => {
    const leaving = members.find((m) => m.ID === id);
    if (!leaving) return;
    for (const u of leaving.clientURLs) {
      let s: StatusResponse;
      try {
        s = await c.at(u).status({ signal, timeoutMs: 3000 });
      } catch {
        continue;
      }
      if (s.leader !== id) return;
      for (const to of members.filter((m) => m.ID !== id && !m.isLearner)) {
        if (!(await answers(c, to, signal))) continue;
        log.info({ from: leaving.name, to: to.name }, 'moving etcd leadership away from the member being removed');
        await c.at(u).moveLeader(to.ID, { signal }).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'moving etcd leadership failed'));
        return;
      }
      return;
    }
  };

  const stopAndWipe = async () => {
    await d.supervisor.stop('etcd');
    // once the member is removed its data is of no use
    await rm(d.paths.data, { recursive: true, force: true });
  };

  const bootstrap = unary(log, async (req: BootstrapRequest, signal: AbortSignal) => {
    log.info('bootstrap request received');
    if (!d.supervisor.list().some((s) => s.id === 'etcd')) throw new GrpcStatusError(status.FAILED_PRECONDITION, 'bootstrap is not available yet');
    await checkControlPlane('bootstrap');
    const synced = AbortSignal.any([signal, AbortSignal.timeout(d.timeSyncWaitMs ?? 5000)]);
    try {
      await d.state.watchFor({ namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID }, (r) => (r?.spec as TimeStatusSpec | undefined)?.synced === true, synced);
    } catch {
      throw new GrpcStatusError(status.FAILED_PRECONDITION, 'time is not in sync yet');
    }
    const root = (await d.state.get({ namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID }).catch(() => undefined))?.spec as EtcdRootSpec | undefined;
    if (!root?.etcdCA) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'etcd is not configured, bootstrap is not possible');
    const empty = async () => (await readdir(d.paths.data).catch(() => [])).length === 0;
    if (!(await empty())) throw new GrpcStatusError(status.ALREADY_EXISTS, 'etcd data directory is not empty');
    // the member waiting to join is stopped; the boot's wait for services sees it finished
    await d.supervisor.stop('etcd');
    d.supervisor.get('etcd').updateState(ServiceState.Finished, 'Bootstrap requested');
    if (!(await empty())) throw new GrpcStatusError(status.ALREADY_EXISTS, 'etcd data directory is not empty');
    await d.supervisor.unload('etcd');
    await d.supervisor.loadAndStart(d.bootstrapService({ recover: req.recoverEtcd ? { skipHashCheck: req.recoverSkipHashCheck } : undefined }));
    return one({});
  });

  /** Takes this node's member out of the cluster (refusing when that would lose quorum), then stops etcd and wipes its data. */
  const leave = async (signal: AbortSignal): Promise<void> => {
    await checkControlPlane('etcd leave');
    const { id } = await localMemberID(signal);
    await withClient(cluster, async (c) => {
      const { members } = await c.memberList({ signal });
      const me = members.find((m) => m.ID === id);
      if (me && !me.isLearner) {
        const voters = members.filter((m) => !m.isLearner);
        const quorum = Math.floor(voters.length / 2) + 1;
        const staying = voters.filter((m) => m.ID !== id);
        let healthy = 0;
        for (const m of staying) if (await answers(c, m, signal)) healthy++;
        if (healthy < quorum) {
          throw new GrpcStatusError(
            status.FAILED_PRECONDITION,
            `failed to leave cluster: leaving would lose etcd quorum: ${healthy} healthy voting member(s) would stay, a quorum of the ${voters.length} member(s) is ${quorum}`,
          );
        }
      }
      if (me) {
        await handOffLeadership(c, members, id, signal);
        const deadline = Date.now() + 60_000;
        for (;;) {
          try {
            await c.memberRemove(id, { signal });
            break;
          } catch (e) {
            if (e instanceof EtcdError && e.is('member not found')) break;
            // not yet connected to enough members, or stopping: try again for a while
            const retry = e instanceof EtcdError && (e.is('unhealthy cluster') || e.is('server stopped')) && Date.now() < deadline;
            if (!retry) return wrap('failed to leave cluster')(e);
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }
    });
    await stopAndWipe();
    log.info({ member: formatMemberID(id) }, 'left the etcd cluster');
  };

  const handlers: Partial<MachineServiceServer> = {
    bootstrap,

    etcdMemberList: unary(log, async (req: EtcdMemberListRequest, signal) => {
      await checkControlPlane('member list');
      const { members } = await withClient(async () => (req.queryLocal ? (await local()).client : cluster()), (c) => c.memberList({ signal }));
      return one({
        legacyMembers: members.map((m) => m.name),
        members: members.map((m) => ({ id: m.ID, hostname: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner })),
      });
    }),

    etcdRemoveMemberById: unary(log, async (req: EtcdRemoveMemberByIDRequest, signal) => {
      await checkControlPlane('etcd remove member');
      if (BigInt(req.memberId) === 0n) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'member id is required');
      await withClient(cluster, async (c) => {
        await handOffLeadership(c, (await c.memberList({ signal })).members, req.memberId, signal);
        await c.memberRemove(req.memberId, { signal });
      }).catch((e: unknown) => {
        if (e instanceof EtcdError && e.is('member not found')) return Promise.reject(new GrpcStatusError(status.NOT_FOUND, `failed to remove member ${req.memberId}: ${e.details}`));
        return wrap('failed to remove member')(e);
      });
      log.info({ member: formatMemberID(req.memberId) }, 'etcd member removed');
      return one({});
    }),

    etcdLeaveCluster: unary(log, async (_req: unknown, signal) => {
      await leave(signal);
      return one({});
    }),

    etcdForfeitLeadership: unary(log, async (_req: unknown, signal) => {
      await checkControlPlane('etcd forfeit leadership');
      const { id } = await localMemberID(signal);
      const member = await withClient(cluster, async (c) => {
        const { members } = await c.memberList({ signal });
        if (members.length === 1) throw new GrpcStatusError(status.INTERNAL, 'failed to forfeit leadership: cannot forfeit leadership, only one member');
        const me = members.find((m) => m.ID === id);
        if (!me) throw new GrpcStatusError(status.INTERNAL, `failed to forfeit leadership: failed to find "${formatMemberID(id)}" in list of etcd members`);
        for (const u of me.clientURLs) {
          const s = await c.at(u).status({ signal });
          if (s.leader !== id) return '';
          const to = members.find((m) => m.ID !== id && !m.isLearner);
          if (!to) return '';
          log.info({ from: me.name, to: to.name }, 'moving etcd leadership');
          try {
            await c.at(u).moveLeader(to.ID, { signal });
          } catch (e) {
            if (e instanceof EtcdError && e.is('not leader')) return '';
            return wrap('failed to forfeit leadership')(e);
          }
          return to.name;
        }
        return '';
      });
      return one({ member });
    }),

    etcdSnapshot: (call: ServerWritableStream<unknown, Data>) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      void (async () => {
        let client: EtcdClient | undefined;
        try {
          await checkControlPlane('etcd snapshot');
          client = (await local()).client;
          for await (const bytes of client.snapshot(ac.signal)) {
            if (call.cancelled) break;
            if (!call.write({ metadata: undefined, bytes })) await new Promise((ok) => call.once('drain', ok));
          }
          call.end();
        } catch (e) {
          if (ac.signal.aborted) return;
          const s = toStatus(e instanceof EtcdError ? new GrpcStatusError(status.INTERNAL, `failed reading etcd snapshot: ${e.details}`) : e);
          log.warn({ err: s.details }, 'etcd snapshot failed');
          call.emit('error', s);
        } finally {
          client?.close();
        }
      })();
    },

    etcdRecover: (call: ServerReadableStream<Data, EtcdRecoverResponse>, cb: sendUnaryData<EtcdRecoverResponse>) => {
      void (async () => {
        const path = d.paths.recoverySnapshot;
        let ok = false;
        try {
          try {
            await stat(dirname(path));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GrpcStatusError(status.FAILED_PRECONDITION, 'etcd service is not ready for recovery yet');
            throw e;
          }
          await checkControlPlane('etcd recover');
          const out = createWriteStream(path, { mode: 0o700 });
          const done = finished(out);
          for await (const m of call as AsyncIterable<Data>) {
            if (!out.write(m.bytes)) await new Promise<void>((r) => out.once('drain', () => r()));
          }
          out.end();
          await done;
          ok = true;
          cb(null, one({}));
        } catch (e) {
          const s = toStatus(e);
          if (s.code === status.INTERNAL) log.error({ err: s.details }, 'etcd recover failed');
          cb(s);
        } finally {
          if (!ok) await rm(path, { force: true }).catch(() => undefined);
        }
      })();
    },

    etcdAlarmList: unary(log, async (_req: unknown, signal) => {
      await checkControlPlane('etcd alarm list');
      const r = await withClient(async () => (await local()).client, (c) => c.alarmList({ signal })).catch(wrap('failed to list etcd alarms'));
      return one({ memberAlarms: r.alarms.map(memberAlarm) });
    }),

    etcdAlarmDisarm: unary(log, async (_req: unknown, signal) => {
      await checkControlPlane('etcd alarm disarm');
      const r = await withClient(async () => (await local()).client, (c) => c.alarmDisarm({ signal })).catch(wrap('failed to disarm etcd alarm'));
      return one({ memberAlarms: r.map(memberAlarm) });
    }),

    etcdDefragment: unary(log, async (_req: unknown, signal) => {
      await checkControlPlane('etcd defragment');
      await withClient(async () => (await local()).client, (c) => c.defragment({ signal })).catch(wrap('failed to defragment etcd'));
      return one({});
    }),

    etcdStatus: unary(log, async (_req: unknown, signal) => {
      await checkControlPlane('etcd status');
      const s = await withClient(async () => (await local()).client, (c) => c.status({ signal })).catch(wrap('failed to query etcd status'));
      // etcd before 3.6 does not say its storage version: it is the major.minor of its version
      const v = /^(\d+)\.(\d+)/.exec(s.version);
      const storageVersion = s.storageVersion || (v ? `${v[1]}.${v[2]}.0` : 'unknown');
      return one({
        memberStatus: {
          memberId: s.header?.memberId ?? '0',
          protocolVersion: s.version,
          dbSize: s.dbSize,
          dbSizeInUse: s.dbSizeInUse,
          leader: s.leader,
          raftIndex: s.raftIndex,
          raftTerm: s.raftTerm,
          raftAppliedIndex: s.raftAppliedIndex,
          storageVersion,
          errors: s.errors,
          isLearner: s.isLearner,
        },
      });
    }),

    ...Object.fromEntries(
      (['etcdDowngradeValidate', 'etcdDowngradeEnable', 'etcdDowngradeCancel'] as const).map((k) => [
        k,
        unary(log, async () => {
          await checkControlPlane('etcd downgrade');
          throw new GrpcStatusError(status.UNIMPLEMENTED, 'etcd downgrades need etcd 3.5 or later: this node runs etcd 3.4, which has no downgrade API');
        }),
      ]),
    ),
  };
  return { handlers, leave };
}

export function etcdHandlers(d: EtcdHandlersDeps): Partial<MachineServiceServer> {
  return etcdOperations(d).handlers;
}

/**
 * The reset sequence's `leaveEtcd`: a control plane whose etcd has data leaves the cluster (as `etcd leave` does) before
 * it is wiped; one whose etcd never ran has nothing to leave.
 */
export async function leaveEtcd(d: EtcdHandlersDeps, signal: AbortSignal): Promise<void> {
  if (!existsSync(join(d.paths.data, 'member'))) return;
  await etcdOperations(d).leave(signal);
}
