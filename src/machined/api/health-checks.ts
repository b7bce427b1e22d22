/**
 * The cluster health checks HealthCheck runs on a control plane, in Talos's order and with Talos's names and error
 * texts. They reach the nodes through a narrow API (`HealthAPI`) that machined backs with a Talos API client of its
 * own apid, so each call fans out to the nodes as talosctl's would.
 */
import type { EtcdMembers, Memory, ServiceList, Version } from '../../api/gen/machine/machine.js';
import type { NodeResults } from '../../client/results.js';
import { sleep } from '../../cosi/watch.js';

export interface HealthCallOptions {
  timeout: number;
  signal: AbortSignal;
}

/** The calls the checks make; `nodes` fans a call out, no `nodes` asks the node running the checks. */
export interface HealthAPI {
  version(nodes: string[], o: HealthCallOptions): Promise<NodeResults<Version>>;
  serviceList(nodes: string[], o: HealthCallOptions): Promise<NodeResults<ServiceList>>;
  etcdMemberList(nodes: string[] | undefined, o: HealthCallOptions): Promise<NodeResults<EtcdMembers>>;
  memory(nodes: string[], o: HealthCallOptions): Promise<NodeResults<Memory>>;
  /** MachineStatus `stage` of one node (`running`, `booting` ...) */
  machineStage(node: string, o: HealthCallOptions): Promise<string>;
  /** TimeStatus `synced` of one node */
  timeSynced(node: string, o: HealthCallOptions): Promise<boolean>;
}

export interface HealthCluster {
  controlPlanes: string[];
  workers: string[];
}

export interface HealthEnv {
  api: HealthAPI;
  cluster: HealthCluster;
  call: HealthCallOptions;
}

/** An assertion that does not apply (Talos's `ErrSkipAssertion`: the check is reported as `SKIP` and passes). */
export class SkipCheck extends Error {
  constructor() {
    super('SKIP');
    this.name = 'SkipCheck';
  }
}

export interface HealthCheckDef {
  name: string;
  /** the name `--skip` knows the check by (a Bronze addition; Talos cannot skip checks) */
  key?: string;
  /** resolves when the cluster passes; throws the reason it does not pass yet, or SkipCheck */
  assert(env: HealthEnv): Promise<void>;
}

/** Errors as hashicorp/go-multierror prints them (Talos's checks gather per-node errors with it), trailing space cut. */
export function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}`;
}

/** Go's `%q` of a string slice: `["a" "b"]`. */
export const goQuoted = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** Throws the nodes' errors of a fanned-out answer, as Talos's client does (`<node>: <error>` each). */
function throwNodeErrors(r: NodeResults<unknown>): void {
  if (r.errors.length > 0) throw new Error(multiError(r.errors.map((e) => e.message)));
}

const all = (c: HealthCluster) => [...c.controlPlanes, ...c.workers];
const byNode = <T>(xs: { node: string | undefined; value: T }[]) => [...xs].sort((a, b) => (a.node ?? '').localeCompare(b.node ?? ''));

/** Talos's ServiceHealthAssertion: the service runs and is healthy on every node of `nodes`. */
async function serviceHealthy(env: HealthEnv, service: string, nodes: string[], skipWhenAbsent = false): Promise<void> {
  const r = await env.api.serviceList(nodes, env.call);
  throwNodeErrors(r);
  const infos = byNode(r.messages).flatMap(({ node, value }) => value.services.filter((s) => s.id === service).map((s) => ({ node: node ?? '', s })));
  // a Bronze node may lack the service altogether (no etcd binary on a process node): nothing to check then
  if (infos.length === 0 && skipWhenAbsent) throw new SkipCheck();
  if (infos.length !== nodes.length) throw new Error(`expected a response with ${nodes.length} node(s), got ${infos.length}`);
  const errors: string[] = [];
  for (const { node, s } of infos) {
    const last = s.events?.events.at(-1);
    if (!last) errors.push(`${node}: no events recorded yet for service "${service}"`);
    else if (last.state !== 'Running') errors.push(`${node}: service "${service}" not in expected state "Running": current state [${last.state}] ${last.msg}`);
    else if (!s.health?.healthy) errors.push(`${node}: service is not healthy: ${service}`);
  }
  if (errors.length > 0) throw new Error(multiError(errors));
}

/** Whether any control plane runs etcd: without it the etcd checks do not apply. */
async function etcdPresent(env: HealthEnv): Promise<boolean> {
  const r = await env.api.serviceList(env.cluster.controlPlanes, env.call);
  throwNodeErrors(r);
  return r.messages.some(({ value }) => value.services.some((s) => s.id === 'etcd'));
}

/** The nodes that are not containers (Talos skips the size checks for container nodes). */
async function nonContainerNodes(env: HealthEnv): Promise<string[]> {
  const r = await env.api.version(all(env.cluster), env.call);
  if (r.errors.length > 0) throw new Error(`error getting version: ${multiError(r.errors.map((e) => e.message))}`);
  return r.messages.filter(({ value }) => value.platform?.mode !== 'container').map(({ node }) => node ?? '');
}

const MiB = 1024 * 1024;
/** Talos's minimum memory per machine type (the kernel's share taken off). */
const MIN_MEMORY = { controlplane: 1848 * MiB - 150 * MiB, worker: 1024 * MiB - 150 * MiB };

/** The Kubernetes checks of Talos's default list, which Bronze nodes do not run (reported as skipped, saying why). */
export const KUBERNETES_CHECKS = [
  'all k8s nodes to report',
  'all control plane static pods to be running',
  'all control plane components to be ready',
  'all k8s nodes to report ready',
  'kube-proxy to report ready',
  'coredns to report ready',
  'all k8s nodes to report schedulable',
];

/** The checks HealthCheck waits for, one after the other. */
export const HEALTH_CHECKS: HealthCheckDef[] = [
  {
    name: 'etcd to be healthy',
    assert: (env) => serviceHealthy(env, 'etcd', env.cluster.controlPlanes, true),
  },
  {
    name: 'etcd members to be consistent across nodes',
    async assert(env) {
      if (!(await etcdPresent(env))) throw new SkipCheck();
      const r = await env.api.etcdMemberList(env.cluster.controlPlanes, env.call);
      throwNodeErrors(r);
      if (r.messages.length === 0) throw new Error('no messages returned');
      const key = (m: { hostname: string; id: string; isLearner: boolean }) => `${m.hostname}\0${m.id}\0${m.isLearner}`;
      const sorted = byNode(r.messages);
      const known = new Map(sorted[0]!.value.members.map((m) => [key(m), m.hostname]));
      for (const { node, value } of sorted.slice(1)) {
        if (value.members.length !== known.size) throw new Error(`${node}: expected to have [${[...known.values()].join(' ')}] members, got [${value.members.map((m) => m.hostname).join(' ')}]`);
        const unexpected = value.members.find((m) => !known.has(key(m)));
        if (unexpected) throw new Error(`${node}: found unexpected etcd member ${unexpected.hostname}`);
      }
    },
  },
  {
    name: 'etcd members to be control plane nodes',
    async assert(env) {
      if (!(await etcdPresent(env))) throw new SkipCheck();
      const r = await env.api.etcdMemberList(undefined, env.call);
      throwNodeErrors(r);
      const memberIPs = (r.messages[0]?.value.members ?? []).flatMap((m) => m.peerUrls.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, '')));
      if (!memberIPs.every((ip) => env.cluster.controlPlanes.includes(ip))) {
        throw new Error(`etcd member ips ${goQuoted(memberIPs)} are not subset of control plane node ips ${goQuoted(env.cluster.controlPlanes)}`);
      }
    },
  },
  {
    name: 'apid to be ready',
    async assert(env) {
      throwNodeErrors(await env.api.version(all(env.cluster), env.call));
    },
  },
  {
    name: 'all nodes memory sizes',
    async assert(env) {
      const nodes = await nonContainerNodes(env);
      if (nodes.length === 0) return;
      const r = await env.api.memory(nodes, env.call);
      if (r.errors.length > 0) throw new Error(`error getting nodes memory: ${multiError(r.errors.map((e) => e.message))}`);
      const errors: string[] = [];
      for (const { node, value } of r.messages) {
        const min = env.cluster.controlPlanes.includes(node ?? '') ? MIN_MEMORY.controlplane : MIN_MEMORY.worker;
        const total = Number(value.meminfo?.memtotal ?? 0) * 1024;
        if (total < min) errors.push(`node "${node}" does not meet memory requirements: expected at least ${Math.floor(min / MiB)} MiB, actual ${Math.floor(total / MiB)} MiB`);
      }
      if (errors.length > 0) throw new Error(multiError(errors));
    },
  },
  {
    name: 'all nodes disk sizes',
    async assert(env) {
      // Talos checks the EPHEMERAL volume of every node that is not a container; Bronze nodes have no volume status
      if ((await nonContainerNodes(env)).length > 0) throw new SkipCheck();
    },
  },
  {
    name: 'no diagnostics',
    async assert() {
      // Bronze nodes do not publish Diagnostics resources
      throw new SkipCheck();
    },
  },
  {
    name: 'kubelet to be healthy',
    key: 'kubelet',
    assert: (env) => serviceHealthy(env, 'kubelet', env.cluster.controlPlanes),
  },
  {
    name: 'all nodes to finish boot sequence',
    async assert(env) {
      const stages = new Map<string, string[]>();
      for (const node of all(env.cluster)) {
        const stage = await env.api.machineStage(node, env.call);
        if (stage === 'running') continue;
        stages.set(stage, [...(stages.get(stage) ?? []), node]);
      }
      if (stages.size === 0) return;
      const parts = [...stages.keys()].sort().map((s) => `${s}: [${stages.get(s)!.sort().join(' ')}]`);
      throw new Error(`nodes are not running: ${parts.join(', ')}`);
    },
  },
  {
    name: 'time to be synced',
    async assert(env) {
      const errors: string[] = [];
      for (const node of all(env.cluster)) if (!(await env.api.timeSynced(node, env.call))) errors.push(`${node}: time is not in sync yet`);
      if (errors.length > 0) throw new Error(multiError(errors));
    },
  },
];

export interface HealthRunOptions {
  /** when the whole wait ends (ms since the epoch) */
  deadline: number;
  /** the caller went away */
  signal: AbortSignal;
  /** one line of progress (`waiting for <check>: <state>`), sent only when it changes */
  report(line: string): void;
  /** keys of checks not to run (`kubelet`) */
  skip?: string[];
  /** how long one attempt may take, ms (default 5 s, as Talos's polling conditions) */
  attemptTimeoutMs?: number;
  /** between the starts of two attempts, ms (default 1 s) */
  retryIntervalMs?: number;
}

/** The reason the wait ended before the checks passed: Talos's context error. */
export class HealthDeadlineError extends Error {
  readonly code = 'BRONZE_HEALTH_DEADLINE';
  constructor() {
    super('context deadline exceeded');
    this.name = 'HealthDeadlineError';
  }
}

/**
 * Runs the checks in order as Talos's `check.Wait` does: each is retried until it passes (or is skipped) and its
 * state is reported as `waiting for <name>: ...`, then `: <error>` while it fails, then `: OK` or `: SKIP`. Throws
 * HealthDeadlineError when the deadline passes first. The Kubernetes checks are reported as not run.
 */
export async function runHealthChecks(api: HealthAPI, cluster: HealthCluster, o: HealthRunOptions): Promise<void> {
  const attemptMs = o.attemptTimeoutMs ?? 5000;
  const retryMs = o.retryIntervalMs ?? 1000;
  const waitSignal = AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(0, o.deadline - Date.now()))]);
  // the timer behind waitSignal and the wall clock can disagree by a millisecond: either one ends the run
  const expired = () => waitSignal.aborted || Date.now() >= o.deadline;
  let last = '';
  const report = (line: string) => {
    if (line !== last) o.report(line);
    last = line;
  };
  for (const check of HEALTH_CHECKS) {
    if (o.signal.aborted) throw o.signal.reason;
    if (expired()) throw new HealthDeadlineError();
    if (check.key && o.skip?.includes(check.key)) {
      report(`waiting for ${check.name}: SKIP (skipped on request)`);
      continue;
    }
    report(`waiting for ${check.name}: ...`);
    for (;;) {
      const started = Date.now();
      const signal = AbortSignal.any([waitSignal, AbortSignal.timeout(attemptMs)]);
      let state: string;
      try {
        await check.assert({ api, cluster, call: { timeout: Math.max(1, Math.min(attemptMs, o.deadline - Date.now())), signal } });
        state = 'OK';
      } catch (e) {
        state = e instanceof SkipCheck ? 'SKIP' : ((e as Error)?.message ?? String(e));
      }
      if (o.signal.aborted) throw o.signal.reason;
      const passed = state === 'OK' || state === 'SKIP';
      // an attempt the deadline cut short says nothing about the cluster: the last real reason stays the last line
      if (!passed && expired()) throw new HealthDeadlineError();
      report(`waiting for ${check.name}: ${state}`.trim());
      if (passed) break;
      await sleep(Math.max(0, Math.min(retryMs - (Date.now() - started), o.deadline - Date.now())), waitSignal);
      if (o.signal.aborted) throw o.signal.reason;
      if (expired()) throw new HealthDeadlineError();
    }
  }
  for (const name of KUBERNETES_CHECKS) report(`waiting for ${name}: SKIP (Kubernetes checks are not run by Bronze nodes)`);
}
