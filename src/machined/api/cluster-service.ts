import { type ServerWritableStream, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import type { ClusterServiceServer, HealthCheckProgress, HealthCheckRequest } from '../../api/gen/cluster/cluster.js';
import { ROLE_METADATA_KEY, Role } from '../../api/roles.js';
import { Client } from '../../client/client.js';
import { nodeResults } from '../../client/results.js';
import { MachineStatusID, MachineStatusType } from '../../resources/runtime/machine-status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import { generateClientConfiguration, requireControlPlane } from './client-config.js';
import { GrpcStatusError } from './grpc-error.js';
import { type HealthAPI, type HealthCallOptions, type HealthCluster, HealthDeadlineError, runHealthChecks } from './health-checks.js';

/** The API name of HealthCheck's control plane check messages, as Talos words it. */
export const HEALTH_CHECK_API = 'cluster health check';

/**
 * Request metadata naming checks not to run (comma-separated keys: `kubelet`): a Bronze addition `bronzectl health
 * --skip` sends, since the request message has no room for it. talosctl never sends it.
 */
export const SKIP_CHECKS_METADATA_KEY = 'bronze-health-skip';

/** How long the client certificate machined makes for its own calls lives (Talos: 10 minutes), ms. */
const LOCAL_CERT_TTL_MS = 10 * 60_000;

export interface ClusterServiceDeps {
  logger: Logger;
  /** the running machine config's text; undefined without one */
  config(): Promise<string | undefined>;
  /** this node's apid (`host:port`): the checks call the nodes through it */
  apiEndpoint: string;
  /** the cluster's nodes as discovery found them (Members), for a request that names none */
  discoveredNodes?(): Promise<HealthCluster>;
  /** a HealthAPI for a caller with these roles (tests give a fake; default: a client of `apiEndpoint`) */
  healthAPI?(roles: string[]): Promise<{ api: HealthAPI; close(): void }>;
}

/** HealthAPI over a Talos API client: calls with `nodes` are fanned out by apid, per-node errors come back labelled. */
export function clientHealthAPI(client: Client): HealthAPI {
  const opts = (o: HealthCallOptions, nodes?: string[]) => ({ timeout: o.timeout, signal: o.signal, ...(nodes ? { nodes } : { nodes: [] }) });
  const spec = async (node: string, type: string, id: string, o: HealthCallOptions) =>
    parse((await client.cosi.get({ namespace: 'runtime', type, id }, { node, timeout: o.timeout, signal: o.signal })).resource?.spec?.yamlSpec ?? '') as Record<string, unknown> | null;
  return {
    version: async (nodes, o) => nodeResults(await client.machine.version({}, opts(o, nodes))),
    serviceList: async (nodes, o) => nodeResults(await client.machine.serviceList({}, opts(o, nodes))),
    etcdMemberList: async (nodes, o) => nodeResults(await client.machine.etcdMemberList({}, opts(o, nodes))),
    memory: async (nodes, o) => nodeResults(await client.machine.memory({}, opts(o, nodes))),
    machineStage: async (node, o) => String((await spec(node, MachineStatusType, MachineStatusID, o))?.stage ?? 'unknown'),
    timeSynced: async (node, o) => (await spec(node, TimeStatusType, TimeStatusID, o))?.synced === true,
  };
}

/** The roles the call came with (apid passes them on), reader when there are none: the checks only read. */
function callerRoles(call: ServerWritableStream<HealthCheckRequest, HealthCheckProgress>): string[] {
  const roles = call.metadata.get(ROLE_METADATA_KEY).flatMap((v) => String(v).split(',')).map((r) => r.trim()).filter((r) => r !== '');
  return roles.length > 0 ? roles : [Role.Reader];
}

const durationMs = (d: HealthCheckRequest['waitTimeout']) => (d ? Number(d.seconds || 0) * 1000 + Math.floor((d.nanos || 0) / 1e6) : 0);

/**
 * machined's `cluster.ClusterService`. HealthCheck (control planes only) runs Talos's cluster checks from this node
 * and streams each change of a check's state as `HealthCheckProgress{message}`: `discovered nodes: [...]`, then
 * `waiting for <check>: ...`, `: <why not yet>`, `: OK`. The nodes come from the request's cluster info or, when it
 * names none, from cluster discovery (the Members). It calls the nodes through its own apid with a short-lived client
 * certificate carrying the caller's roles, as Talos does. The Kubernetes checks are not run (reported as skipped).
 */
export function clusterService(deps: ClusterServiceDeps): ClusterServiceServer {
  const log = deps.logger;
  const openAPI =
    deps.healthAPI ??
    (async (roles: string[]) => {
      const cc = await generateClientConfiguration(await deps.config(), { roles, crtTtl: { seconds: String(LOCAL_CERT_TTL_MS / 1000), nanos: 0 } });
      const client = new Client({ endpoints: [deps.apiEndpoint], tls: { ca: cc.ca, crt: cc.crt, key: cc.key } });
      return { api: clientHealthAPI(client), close: () => client.close() };
    });
  return {
    healthCheck(call) {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort(new Error('the caller went away')));
      const send = (message: string) => {
        if (!call.cancelled && !call.writableEnded) call.write({ metadata: undefined, message });
      };
      void (async () => {
        let opened: { api: HealthAPI; close(): void } | undefined;
        try {
          requireControlPlane(await deps.config(), HEALTH_CHECK_API);
          const deadline = Date.now() + durationMs(call.request.waitTimeout);
          const info = call.request.clusterInfo;
          let cluster: HealthCluster = { controlPlanes: info?.controlPlaneNodes ?? [], workers: info?.workerNodes ?? [] };
          if (cluster.controlPlanes.length + cluster.workers.length === 0 && deps.discoveredNodes) cluster = await deps.discoveredNodes();
          if (cluster.controlPlanes.length + cluster.workers.length === 0) {
            throw new GrpcStatusError(status.FAILED_PRECONDITION, 'no nodes to check: cluster discovery found no members (is it enabled?); give the control plane and worker nodes in the cluster info');
          }
          opened = await openAPI(callerRoles(call));
          send(`discovered nodes: [${[...cluster.controlPlanes, ...cluster.workers].map((n) => JSON.stringify(n)).join(' ')}]`);
          const skip = call.metadata.get(SKIP_CHECKS_METADATA_KEY).flatMap((v) => String(v).split(',')).map((s) => s.trim());
          await runHealthChecks(opened.api, cluster, { deadline, signal: ac.signal, report: send, skip });
          call.end();
        } catch (e) {
          if (ac.signal.aborted) return;
          let err: { code: status; details: string };
          if (e instanceof GrpcStatusError) err = { code: e.grpcCode, details: e.message };
          else if (e instanceof HealthDeadlineError) err = { code: status.DEADLINE_EXCEEDED, details: e.message };
          else {
            err = { code: status.UNKNOWN, details: (e as Error)?.message ?? String(e) };
            log.warn({ err: err.details }, 'cluster health check failed');
          }
          call.emit('error', err);
        } finally {
          ac.abort();
          opened?.close();
        }
      })();
    },
  };
}
