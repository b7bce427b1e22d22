import { parse } from 'yaml';
import type { Client } from '../../client/client.js';
import { nodeResults } from '../../client/results.js';
import type { CallOptions } from '../../client/rpc.js';
import { type MemberSpec, MemberType, nodesOfMembers } from '../../resources/cluster/member.js';
import { ClusterNamespace } from '../../resources/namespaces.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { MachineStatusID, MachineStatusType } from '../../resources/runtime/machine-status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import type { Command, CommandContext } from '../command.js';
import { type Connection, defaultNode, withClient } from '../connection.js';
import { nodeStream } from '../../client/results.js';
import { causeOf, describeError } from '../errors.js';
import { UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

/** The nodes a health check looks at, by role. */
export interface ClusterNodes {
  controlPlanes: string[];
  workers: string[];
}

/** What a check says about the cluster now: passed, skipped (does not apply) or the reason it does not pass yet. */
export type CheckResult = { ok: true } | { skip: true } | { ok: false; why: string };

export interface Check {
  name: string;
  /** the name `--skip` knows the check by */
  key?: string;
  run(env: CheckEnv): Promise<CheckResult>;
}

export interface CheckEnv {
  client: Client;
  nodes: ClusterNodes;
  call: (node: string) => CallOptions;
}

const all = (n: ClusterNodes) => [...n.controlPlanes, ...n.workers];
const fail = (why: string): CheckResult => ({ ok: false, why });

async function specOf<T>(env: CheckEnv, node: string, namespace: string, type: string, id: string): Promise<T> {
  const r = await env.client.cosi.get({ namespace, type, id }, env.call(node));
  return parse(r.resource?.spec?.yamlSpec ?? '') as T;
}

/** The first node for which `test` gives a reason to wait, or OK. */
async function everyNode(nodes: string[], test: (node: string) => Promise<string | undefined>): Promise<CheckResult> {
  for (const node of nodes) {
    let why: string | undefined;
    try {
      why = await test(node);
    } catch (e) {
      why = causeOf(e);
    }
    if (why !== undefined) return fail(`${node}: ${why}`);
  }
  return { ok: true };
}

/** Whether etcd runs on the control planes: a node without the etcd service has none to check. */
async function etcdServices(env: CheckEnv): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const node of env.nodes.controlPlanes) {
    const res = nodeResults(await env.client.machine.serviceList({}, env.call(node)));
    const s = res.messages.flatMap((m) => m.value.services).find((x) => x.id === 'etcd');
    if (s) states.set(node, s.state);
  }
  return states;
}

/** The checks `health` runs, in order; each is waited for before the next starts. */
export const CHECKS: Check[] = [
  {
    name: 'apid to be ready',
    run: (env) => everyNode(all(env.nodes), async (node) => void (await env.client.machine.version({}, env.call(node)))),
  },
  {
    name: 'all nodes to finish boot sequence',
    run: (env) =>
      everyNode(all(env.nodes), async (node) => {
        const s = await specOf<{ stage?: string }>(env, node, 'runtime', MachineStatusType, MachineStatusID);
        return s?.stage === 'running' ? undefined : `stage is ${s?.stage ?? 'unknown'}`;
      }),
  },
  {
    name: 'etcd to be healthy',
    async run(env) {
      const states = await etcdServices(env);
      if (states.size === 0) return { skip: true };
      return everyNode(env.nodes.controlPlanes, async (node) => {
        const state = states.get(node);
        if (state === undefined) return 'the etcd service is not registered';
        if (state !== 'Running') return `service "etcd" is ${state}`;
        const res = nodeResults(await env.client.machine.etcdMemberList({ queryLocal: true }, env.call(node)));
        if (res.errors[0]) return res.errors[0].message;
        return undefined;
      });
    },
  },
  {
    name: 'etcd members to be consistent across nodes',
    async run(env) {
      if ((await etcdServices(env)).size === 0) return { skip: true };
      let reference: string | undefined;
      let first = '';
      for (const node of env.nodes.controlPlanes) {
        const res = nodeResults(await env.client.machine.etcdMemberList({}, env.call(node)));
        if (res.errors[0]) return fail(`${node}: ${res.errors[0].message}`);
        const members = res.messages
          .flatMap((m) => m.value.members)
          .map((m) => `${m.hostname}${m.isLearner ? ' (learner)' : ''}`)
          .sort();
        if (members.length !== env.nodes.controlPlanes.length) return fail(`${node}: ${members.length} members (${members.join(', ')}), ${env.nodes.controlPlanes.length} control plane nodes`);
        if (members.some((m) => m.endsWith('(learner)'))) return fail(`${node}: learners are not promoted yet: ${members.join(', ')}`);
        const text = members.join(', ');
        if (reference === undefined) {
          reference = text;
          first = node;
        } else if (text !== reference) return fail(`${node} sees ${text}, ${first} sees ${reference}`);
      }
      return { ok: true };
    },
  },
  {
    name: 'all services to be running and healthy',
    run: (env) =>
      everyNode(all(env.nodes), async (node) => {
        const res = nodeResults(await env.client.machine.serviceList({}, env.call(node)));
        if (res.errors[0]) return res.errors[0].message;
        // the kubelet has its own check; a service skipped on this machine (udevd off the metal) is fine
        const bad = res.messages
          .flatMap((m) => m.value.services)
          .filter((s) => s.id !== 'kubelet' && s.state !== 'Skipped')
          .filter((s) => s.state !== 'Running' || (s.health && !s.health.unknown && !s.health.healthy))
          .map((s) => (s.state !== 'Running' ? `${s.id} is ${s.state}` : `${s.id} is unhealthy${s.health?.lastMessage ? ` (${s.health.lastMessage})` : ''}`));
        return bad.length ? bad.join(', ') : undefined;
      }),
  },
  {
    name: 'kubelet to be healthy',
    key: 'kubelet',
    run: (env) =>
      everyNode(all(env.nodes), async (node) => {
        const res = nodeResults(await env.client.machine.serviceList({}, env.call(node)));
        if (res.errors[0]) return res.errors[0].message;
        const k = res.messages.flatMap((m) => m.value.services).find((s) => s.id === 'kubelet');
        if (!k) return 'the kubelet service is not registered';
        const last = k.events?.events.at(-1)?.msg;
        if (k.state !== 'Running') return `kubelet is ${k.state}${last ? `: ${last}` : ''}`;
        return k.health?.healthy ? undefined : `kubelet is not healthy yet${k.health?.lastMessage ? `: ${k.health.lastMessage}` : ''}`;
      }),
  },
  {
    name: 'time to be synced',
    run: (env) =>
      everyNode(all(env.nodes), async (node) => {
        const s = await specOf<{ synced?: boolean }>(env, node, 'runtime', TimeStatusType, TimeStatusID);
        return s?.synced ? undefined : 'the clock is not synchronized yet';
      }),
  },
];

/** The control plane and worker nodes: from the flags, or the targeted nodes sorted by their MachineType. */
async function clusterNodes(ctx: CommandContext, client: Client, nodes: string[]): Promise<ClusterNodes> {
  const cps = [...ctx.list('control-plane-nodes'), ...(ctx.string('init-node') ? [ctx.string('init-node')!] : [])];
  const workers = ctx.list('worker-nodes');
  if (cps.length || workers.length) {
    if (cps.length === 0) throw new UsageError('--control-plane-nodes: at least one control plane node is needed');
    return { controlPlanes: cps, workers };
  }
  if (nodes.length === 0) {
    // as talosctl: the cluster's members, as the endpoint's cluster discovery knows them
    const members: MemberSpec[] = [];
    for await (const m of client.cosi.list({ namespace: ClusterNamespace, type: MemberType }, { signal: ctx.io.signal, timeout: 10_000 })) {
      members.push(parse(m.resource?.spec?.yamlSpec ?? '') as MemberSpec);
    }
    const found = nodesOfMembers(members);
    if (found.controlPlanes.length === 0) {
      throw new UsageError('no nodes to check: cluster discovery found no control plane member; give --control-plane-nodes and --worker-nodes, or nodes with -n (or in the talosconfig context)');
    }
    return found;
  }
  const out: ClusterNodes = { controlPlanes: [], workers: [] };
  for (const node of nodes) {
    let type: unknown;
    try {
      type = parse((await client.cosi.get({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { node, timeout: 10_000, signal: ctx.io.signal })).resource?.spec?.yamlSpec ?? '');
    } catch (e) {
      throw new Error(`cannot tell the role of node ${node}: ${causeOf(e)}; give --control-plane-nodes and --worker-nodes`, { cause: e });
    }
    if (type === 'controlplane' || type === 'init') out.controlPlanes.push(node);
    else out.workers.push(node);
  }
  if (out.controlPlanes.length === 0) throw new UsageError(`none of ${nodes.join(', ')} is a control plane node: give --control-plane-nodes`);
  return out;
}

/** Waits `ms` unless the signal fires first. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * One progress line of the checks, on stderr as talosctl prints it; with `-o json|yaml`, also a document on stdout:
 * `{check, result}` (result is OK, SKIP or why it still waits), or `{message}` for other lines.
 */
function report(ctx: CommandContext, node: string | undefined, line: string): void {
  ctx.err(`${line}\n`);
  const m = /^waiting for (.+?): ([\s\S]+)$/.exec(line);
  printResult(ctx, node, m ? { check: m[1]!, result: m[2]! } : { message: line });
}

/** Runs the checks in order, each until it passes, reporting on stderr as talosctl does; false when time ran out. */
export async function runChecks(ctx: CommandContext, env: Omit<CheckEnv, 'call'>, checks: Check[], deadline: number): Promise<boolean> {
  const signal = AbortSignal.any([ctx.io.signal, AbortSignal.timeout(Math.max(0, deadline - Date.now()))]);
  const call = (node: string): CallOptions => ({ node, timeout: Math.max(1, Math.min(10_000, deadline - Date.now())), signal });
  for (const check of checks) {
    let last = '';
    for (;;) {
      let r: CheckResult;
      try {
        r = await check.run({ ...env, call });
      } catch (e) {
        r = fail(describeError(e));
      }
      if ((signal.aborted || Date.now() >= deadline - 100) && !('skip' in r) && !r.ok && last !== '') {
        // the calls cut short by the deadline say nothing new: report why the check was still waiting
        ctx.err(`error: ${check.name}: not done after the wait timeout${last ? `: ${last}` : ''}\n`);
        return false;
      }
      if ('skip' in r) {
        report(ctx, undefined, `waiting for ${check.name}: SKIP`);
        break;
      }
      if (r.ok) {
        report(ctx, undefined, `waiting for ${check.name}: OK`);
        break;
      }
      if (r.why !== last) report(ctx, undefined, `waiting for ${check.name}: ${r.why}`);
      last = r.why;
      if (signal.aborted || Date.now() >= deadline) {
        ctx.err(`error: ${check.name}: not done after the wait timeout: ${r.why}\n`);
        return false;
      }
      await pause(Math.min(1000, deadline - Date.now()), signal);
    }
  }
  return true;
}

/**
 * Request metadata naming the checks a server-side run leaves out (`--skip`); machined's ClusterService reads the same
 * key. A Bronze addition: the HealthCheck request has no field for it.
 */
export const HEALTH_SKIP_METADATA_KEY = 'bronze-health-skip';

/**
 * `--server`: the checks run on a control plane (ClusterService/HealthCheck), which streams its progress lines; they
 * are printed as they come, as talosctl does. The nodes sent are those of the flags, else the targeted nodes sorted by
 * their MachineType; with neither, none are sent and the node uses its cluster discovery's members. The call goes to the one targeted node, else to
 * the first control plane (talosctl refuses several targeted nodes; bronzectl picks the one to ask).
 */
async function healthOnServer(ctx: CommandContext, conn: Connection, waitMs: number, skip: string[]): Promise<number> {
  const explicit = ctx.list('control-plane-nodes').length > 0 || ctx.list('worker-nodes').length > 0 || ctx.string('init-node') !== undefined;
  const nodes = explicit || conn.nodes.length > 0 ? await clusterNodes(ctx, conn.client, conn.nodes) : undefined;
  const target = conn.nodes.length === 1 ? conn.nodes[0]! : nodes?.controlPlanes[0];
  const stream = conn.client.cluster.healthCheck(
    {
      waitTimeout: { seconds: String(Math.floor(waitMs / 1000)), nanos: (waitMs % 1000) * 1e6 },
      clusterInfo: { controlPlaneNodes: nodes?.controlPlanes ?? [], workerNodes: nodes?.workers ?? [], forceEndpoint: ctx.string('k8s-endpoint') ?? '' },
    },
    { nodes: target !== undefined ? [target] : [], signal: ctx.io.signal, ...(skip.length ? { metadata: { [HEALTH_SKIP_METADATA_KEY]: skip.join(',') } } : {}) },
  );
  for await (const item of nodeStream(stream)) {
    if (item.error) throw new Error(`healthcheck error: ${item.error.message.slice(item.node.length + 2)}`);
    report(ctx, item.node ?? target ?? defaultNode(conn), item.value.message);
  }
  return 0;
}

export const healthCommand: Command = {
  name: 'health',
  summary: 'Check cluster health',
  flags: [
    { name: 'init-node', kind: 'string', description: 'specify IPs of init node' },
    { name: 'control-plane-nodes', kind: 'list', description: 'specify IPs of control plane nodes' },
    { name: 'worker-nodes', kind: 'list', description: 'specify IPs of worker nodes' },
    { name: 'wait-timeout', kind: 'duration', description: 'timeout to wait for the cluster to be ready', default: 20 * 60_000 },
    { name: 'skip', kind: 'list', description: 'checks not to wait for: kubelet (for nodes that cannot pull its image)' },
    { name: 'server', kind: 'bool', description: 'run server-side check', default: true },
    { name: 'k8s-endpoint', kind: 'string', description: 'use endpoint instead of kubeconfig default' },
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const waitMs = ctx.duration('wait-timeout') ?? 20 * 60_000;
    const deadline = Date.now() + waitMs;
    const skip = ctx.list('skip');
    const known = CHECKS.flatMap((c) => (c.key ? [c.key] : []));
    for (const k of skip) if (!known.includes(k)) throw new UsageError(`--skip: unknown check "${k}" (one of: ${known.join(', ')})`);
    return withClient(ctx, async (conn) => {
      if (ctx.bool('server')) return healthOnServer(ctx, conn, waitMs, skip);
      const nodes = await clusterNodes(ctx, conn.client, conn.nodes);
      ctx.err(`discovered nodes: control plane: ${nodes.controlPlanes.join(', ')}; worker: ${nodes.workers.join(', ') || 'none'}\n`);
      const checks = CHECKS.filter((c) => !c.key || !skip.includes(c.key));
      return (await runChecks(ctx, { client: conn.client, nodes }, checks, deadline)) ? 0 : 1;
    });
  },
};
