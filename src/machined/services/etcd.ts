import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { MachineTypeName } from '../../resources/config/machine-type.js';
import { EtcdPKIID, type EtcdPKIStatusSpec, EtcdPKIStatusType } from '../../resources/etcd/pki-status.js';
import { EtcdSpecID, type EtcdSpecSpec, EtcdSpecType } from '../../resources/etcd/spec.js';
import { EtcdNamespace } from '../../resources/namespaces.js';
import { EtcdPeerPort, etcdArgs, type EtcdPaths, etcdPaths, etcdURLs, initialClusterOf } from '../etcd/args.js';
import { EtcdClient, EtcdError } from '../etcd/client.js';
import { adminTLS, localEtcdClient } from '../etcd/local.js';
import { controlPlaneEtcdEndpoints } from '../etcd/peers.js';
import { delay } from '../supervisor/health.js';
import { ProcessRunner, RestartRunner, type ServiceDefinition, waitForAll } from '../supervisor/index.js';
import { CGROUPS } from '../supervisor/system-cgroups.js';
import { networkReadyCondition, resourceCondition, timeSyncCondition } from './conditions.js';
import type { ServiceContext } from './context.js';

export { EtcdSpecID, EtcdSpecType } from '../../resources/etcd/spec.js';

const run = promisify(execFile);

export interface EtcdServiceOptions {
  /** default: under the node's system directories (see etcdPaths) */
  paths?: EtcdPaths;
  /** default `controlplane` (`init` bootstraps itself when its data directory is empty) */
  machineType?: MachineTypeName;
  /** start a new cluster with this member (`Bootstrap`) */
  bootstrap?: boolean;
  /** before starting, restore the data directory from the uploaded snapshot (`Bootstrap{recover_etcd}`) */
  recover?: { skipHashCheck: boolean };
  /** ms between attempts to join through another control plane (default 3000, as Talos) */
  joinInterval?: number;
  /** ms between attempts to promote this learner (default 2000) */
  promoteInterval?: number;
}

/** Whether the directory has no entries (a missing directory counts as empty). */
export async function isDirEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

/** etcd 3.5 and later take flags that 3.4 refuses. */
async function etcdAtLeast35(bin: string): Promise<boolean> {
  try {
    const { stdout } = await run(bin, ['--version'], { timeout: 10_000 });
    const m = /etcd Version:\s*(\d+)\.(\d+)/.exec(stdout);
    return !!m && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 5));
  } catch {
    return false;
  }
}

/**
 * `etcd` (control planes): the etcd program run directly under the supervisor, with certificates from the etcd CA
 * (written by the PKI controller) and data under the node's `/var/lib/etcd`. Once time is synced, the network is
 * up and the etcd spec exists, it prepares like Talos: a bootstrapping member (`Bootstrap`, or an `init` node)
 * starts a new cluster; a member with an empty data directory adds itself as a learner through another control
 * plane (waiting until one answers, i.e. until the cluster is bootstrapped), starts, and is promoted to a voting
 * member once it has caught up; a member with data restarts as it was. Healthy while a linearizable read succeeds.
 */
export function etcdService(ctx: ServiceContext, opts: EtcdServiceOptions = {}): ServiceDefinition {
  const o = { ...opts, paths: opts.paths ?? etcdPaths({ system: dirname(ctx.paths.systemRun), var: ctx.paths.var }) };
  const log = ctx.logger.child({ service: 'etcd' });
  const bootstrap = o.bootstrap === true || o.machineType === 'init';
  let bin: string | undefined;
  let args: string[] = [];
  let learner: { id: string; endpoints: string[] } | undefined;
  let promoting: AbortController | undefined;
  let health: EtcdClient | undefined;

  /** Adds this node as a learner through a control plane that runs etcd; answers the initial cluster to start with. */
  const join = async (spec: EtcdSpecSpec, signal: AbortSignal): Promise<string> => {
    const peerURLs = etcdURLs(spec.advertisedAddresses, EtcdPeerPort);
    let lastNag = 0;
    for (;;) {
      if (Date.now() - lastNag > 30_000) {
        lastNag = Date.now();
        log.info({ addresses: spec.advertisedAddresses }, 'etcd is waiting to join the cluster, if this node is the first node in the cluster, please run `bronzectl bootstrap` against one of these addresses');
      }
      const endpoints = await controlPlaneEtcdEndpoints(ctx.state, spec.advertisedAddresses);
      try {
        if (endpoints.length === 0) throw new Error('no other control plane is known (cluster discovery found none, and cluster.controlPlane.endpoint names none)');
        const client = new EtcdClient(endpoints, await adminTLS(ctx.state), { callTimeoutMs: 10_000 });
        try {
          const { members } = await client.memberList({ signal });
          // a member of this name or these peer URLs is a previous life of this node: its data is gone
          for (const m of members) {
            if (m.name === spec.name || m.peerURLs.some((u) => peerURLs.includes(u))) {
              log.info({ member: m.ID, name: m.name }, 'removing a previous member of this node');
              await client.memberRemove(m.ID, { signal });
            }
          }
          const added = await client.memberAddAsLearner(peerURLs, { signal });
          const id = added.member!.ID;
          const all = (await client.memberList({ signal })).members;
          const initial = all.flatMap((m) => m.peerURLs.map((u) => `${m.ID === id ? spec.name : m.name}=${u}`)).join(',');
          const others = all.filter((m) => m.ID !== id).flatMap((m) => m.clientURLs);
          learner = { id, endpoints: [...new Set([...others, ...endpoints])] };
          log.info({ member: id, initialCluster: initial }, 'added this node to the etcd cluster as a learner');
          return initial;
        } finally {
          client.close();
        }
      } catch (e) {
        if (signal.aborted) throw e;
        log.debug({ err: (e as Error).message }, 'joining the etcd cluster did not succeed yet');
      }
      await delay(o.joinInterval ?? 3000, signal);
    }
  };

  /** Promotes this learner through the other members until one accepts (it must have caught up first). */
  const promote = async (l: { id: string; endpoints: string[] }, signal: AbortSignal) => {
    const tls = await adminTLS(ctx.state);
    const deadline = Date.now() + 10 * 60_000;
    let i = 0;
    while (!signal.aborted && Date.now() < deadline) {
      const endpoint = l.endpoints[i++ % l.endpoints.length]!;
      const client = new EtcdClient([endpoint], tls, { callTimeoutMs: 30_000 });
      try {
        await client.memberPromote(l.id, { signal });
        log.info({ member: l.id }, 'successfully promoted etcd member');
        return;
      } catch (e) {
        if (e instanceof EtcdError && e.is('member not found')) return;
        log.debug({ err: (e as Error).message, endpoint }, 'promoting the etcd member did not succeed yet');
      } finally {
        client.close();
      }
      await delay(o.promoteInterval ?? 2000, signal).catch(() => undefined);
    }
  };

  /** Restores the data directory from the uploaded snapshot (etcdctl snapshot restore), then deletes the snapshot. */
  const recover = async (spec: EtcdSpecSpec, skipHashCheck: boolean) => {
    const etcdctl = ctx.which('etcdctl');
    if (!etcdctl) throw new Error('etcdctl is not installed on this node: cannot recover from a snapshot');
    const peerURLs = etcdURLs(spec.advertisedAddresses, EtcdPeerPort);
    await run(etcdctl, ['snapshot', 'status', o.paths.recoverySnapshot, '--write-out=json'], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 60_000 }).then(
      ({ stdout }) => log.info({ status: stdout.trim() }, 'recovering etcd from snapshot'),
      (e: Error) => Promise.reject(new Error(`error verifying snapshot: ${e.message}`)),
    );
    // etcdctl creates the data directory itself
    await rm(o.paths.data, { recursive: true, force: true });
    const restore = ['snapshot', 'restore', o.paths.recoverySnapshot, `--name=${spec.name}`, `--data-dir=${o.paths.data}`, `--initial-cluster=${initialClusterOf(spec.name, peerURLs)}`, `--initial-advertise-peer-urls=${peerURLs.join(',')}`];
    if (skipHashCheck) restore.push('--skip-hash-check');
    await run(etcdctl, restore, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5 * 60_000 }).catch((e: Error) => Promise.reject(new Error(`error recovering from the snapshot: ${e.message}`)));
    await rm(o.paths.recoverySnapshot, { force: true });
  };

  return {
    id: 'etcd',
    // as in Talos (where etcd runs in the CRI containerd); `cri` skipped on a node without it counts as up
    dependsOn: ['cri'],
    condition: waitForAll(
      timeSyncCondition(ctx.state),
      networkReadyCondition(ctx.state, 'addressReady', 'hostnameReady', 'etcFilesReady'),
      resourceCondition(ctx.state, { namespace: EtcdNamespace, type: EtcdSpecType, id: EtcdSpecID }, 'etcd spec', (s) => s !== undefined),
    ),
    async pre(signal) {
      learner = undefined;
      bin = ctx.which('etcd');
      if (!bin) {
        log.warn('etcd is not installed on this node: service skipped');
        return;
      }
      await ctx.state.watchFor({ namespace: EtcdNamespace, type: EtcdPKIStatusType, id: EtcdPKIID }, (r) => (r?.spec as EtcdPKIStatusSpec | undefined)?.ready === true, signal);
      const spec = (await ctx.state.get({ namespace: EtcdNamespace, type: EtcdSpecType, id: EtcdSpecID })).spec as EtcdSpecSpec;
      await mkdir(o.paths.data, { recursive: true, mode: 0o700 });
      if (o.recover) await recover(spec, o.recover.skipHashCheck);
      const dataEmpty = await isDirEmpty(o.paths.data);
      const extra = spec.extraArgs;
      const initialCluster = dataEmpty && !bootstrap && !extra['initial-cluster'] ? await join(spec, signal) : undefined;
      args = etcdArgs({ spec, paths: o.paths, dataEmpty, bootstrap, initialCluster, etcd35: await etcdAtLeast35(bin) });
    },
    runner() {
      if (!bin) return undefined;
      if (learner) {
        promoting = new AbortController();
        const l = learner;
        void promote(l, promoting.signal).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'failed promoting member'));
      }
      const env: Record<string, string> = {
        ETCD_CIPHER_SUITES: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
      };
      // etcd 3.4 runs on arm64 only when told to
      if (process.arch === 'arm64') env.ETCD_UNSUPPORTED_ARCH = 'arm64';
      return new RestartRunner(new ProcessRunner({ id: 'etcd', args: [bin, ...args], env, log: ctx.logs.serviceLog('etcd'), logger: ctx.logger, oomScoreAdj: -998, cgroup: ctx.cgroup?.(CGROUPS.etcd) }), { policy: 'Forever' });
    },
    async post() {
      promoting?.abort();
      promoting = undefined;
      health?.close();
      health = undefined;
    },
    health: {
      check: async (signal) => {
        health ??= await localEtcdClient(ctx.state);
        await health.checkQuorum({ signal, timeoutMs: 15_000 });
      },
      settings: { initialDelay: 5000, period: 20_000, timeout: 15_000 },
    },
    api: { restart: true },
  };
}

