import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EtcdMember, ServiceInfo } from '../../api/gen/machine/machine.js';
import { NodeError } from '../../client/errors.js';
import type { NodeResults } from '../../client/results.js';
import { goQuoted, type HealthAPI, type HealthCallOptions, HealthDeadlineError, KUBERNETES_CHECKS, multiError, runHealthChecks } from './health-checks.js';

const CP = '10.5.0.2';
const W = '10.5.0.3';

/** A cluster the checks can look at: per node its services, etcd members, platform mode, memory, stage and clock. */
class FakeCluster implements HealthAPI {
  services = new Map<string, ServiceInfo[]>();
  members: EtcdMember[] = [];
  /** nodes whose member list differs */
  membersOf = new Map<string, EtcdMember[]>();
  mode = new Map<string, string>();
  memKiB = new Map<string, number>();
  stage = new Map<string, string>();
  synced = new Map<string, boolean>();
  down = new Set<string>();

  private fan<T>(nodes: string[], value: (n: string) => T): NodeResults<T> {
    return {
      messages: nodes.filter((n) => !this.down.has(n)).map((n) => ({ node: n, value })).map(({ node, value: v }) => ({ node, value: v(node) })),
      errors: nodes.filter((n) => this.down.has(n)).map((n) => new NodeError(n, 'rpc error: code = Unavailable desc = connection refused', 14)),
    };
  }

  async version(nodes: string[]) {
    return this.fan(nodes, (n) => ({ metadata: undefined, version: undefined, features: undefined, platform: { name: 'p', mode: this.mode.get(n) ?? 'container' } }));
  }
  async serviceList(nodes: string[]) {
    return this.fan(nodes, (n) => ({ metadata: undefined, services: this.services.get(n) ?? [] }));
  }
  async etcdMemberList(nodes: string[] | undefined) {
    return this.fan(nodes ?? [CP], (n) => ({ metadata: undefined, legacyMembers: [], members: this.membersOf.get(n) ?? this.members }));
  }
  async memory(nodes: string[]) {
    return this.fan(nodes, (n) => ({ metadata: undefined, meminfo: { memtotal: String(this.memKiB.get(n) ?? 4_000_000) } as never }));
  }
  async machineStage(node: string) {
    if (this.down.has(node)) throw new Error(`${node}: connection refused`);
    return this.stage.get(node) ?? 'running';
  }
  async timeSynced(node: string) {
    return this.synced.get(node) ?? true;
  }
}

const svc = (id: string, state: string, healthy: boolean, msg = 'Health check successful'): ServiceInfo => ({
  id,
  state,
  events: { events: [{ msg, state, ts: undefined }] },
  health: { unknown: false, healthy, lastMessage: '', lastChange: undefined },
});
const member = (hostname: string, id: string, ip: string): EtcdMember => ({ id, hostname, peerUrls: [`https://${ip}:2380`], clientUrls: [], isLearner: false });

function healthy<C extends FakeCluster = FakeCluster>(c: C = new FakeCluster() as C): C {
  c.services.set(CP, [svc('apid', 'Running', true), svc('etcd', 'Running', true), svc('kubelet', 'Running', true)]);
  c.services.set(W, [svc('apid', 'Running', true), svc('kubelet', 'Running', true)]);
  c.members = [member('cp-1', '1', CP)];
  return c;
}

async function run(c: FakeCluster, opts: { timeoutMs?: number; skip?: string[]; onLine?: (line: string, lines: string[]) => void } = {}) {
  const lines: string[] = [];
  let error: unknown;
  try {
    await runHealthChecks(c, { controlPlanes: [CP], workers: [W] }, {
      deadline: Date.now() + (opts.timeoutMs ?? 10_000),
      signal: new AbortController().signal,
      skip: opts.skip,
      retryIntervalMs: 5,
      report: (l) => {
        lines.push(l);
        opts.onLine?.(l, lines);
      },
    });
  } catch (e) {
    error = e;
  }
  return { lines, error };
}

describe('cluster health checks', () => {
  it('pass on a healthy cluster in Talos order, each reported waiting then OK, SKIP where they do not apply', async () => {
    const { lines, error } = await run(healthy());
    assert.equal(error, undefined);
    assert.deepEqual(lines, [
      'waiting for etcd to be healthy: ...',
      'waiting for etcd to be healthy: OK',
      'waiting for etcd members to be consistent across nodes: ...',
      'waiting for etcd members to be consistent across nodes: OK',
      'waiting for etcd members to be control plane nodes: ...',
      'waiting for etcd members to be control plane nodes: OK',
      'waiting for apid to be ready: ...',
      'waiting for apid to be ready: OK',
      'waiting for all nodes memory sizes: ...',
      'waiting for all nodes memory sizes: OK',
      'waiting for all nodes disk sizes: ...',
      'waiting for all nodes disk sizes: OK',
      'waiting for no diagnostics: ...',
      'waiting for no diagnostics: SKIP',
      'waiting for kubelet to be healthy: ...',
      'waiting for kubelet to be healthy: OK',
      'waiting for all nodes to finish boot sequence: ...',
      'waiting for all nodes to finish boot sequence: OK',
      'waiting for time to be synced: ...',
      'waiting for time to be synced: OK',
      ...KUBERNETES_CHECKS.map((k) => `waiting for ${k}: SKIP (Kubernetes checks are not run by Bronze nodes)`),
    ]);
  });

  it('report why a check waits, once per change, until it passes', async () => {
    const c = healthy();
    c.services.set(CP, [svc('etcd', 'Preparing', false, 'Running pre state'), svc('kubelet', 'Running', true)]);
    let attempts = 0;
    const { lines, error } = await run(c, {
      onLine: (l) => {
        // the first complaint is seen: etcd comes up, unhealthy first, healthy at the next attempts
        if (l.startsWith('waiting for etcd to be healthy: 1 error') && ++attempts === 1) c.services.set(CP, [svc('etcd', 'Running', false), svc('kubelet', 'Running', true)]);
        if (l.includes('service is not healthy')) c.services.set(CP, [svc('etcd', 'Running', true), svc('kubelet', 'Running', true)]);
      },
    });
    assert.equal(error, undefined);
    assert.deepEqual(lines.slice(0, 4), [
      'waiting for etcd to be healthy: ...',
      `waiting for etcd to be healthy: 1 error occurred:\n\t* ${CP}: service "etcd" not in expected state "Running": current state [Preparing] Running pre state`,
      `waiting for etcd to be healthy: 1 error occurred:\n\t* ${CP}: service is not healthy: etcd`,
      'waiting for etcd to be healthy: OK',
    ]);
  });

  it('skip the etcd checks where no control plane runs etcd, and the kubelet on request', async () => {
    const c = healthy();
    c.services.set(CP, [svc('apid', 'Running', true)]);
    const { lines, error } = await run(c, { skip: ['kubelet'] });
    assert.equal(error, undefined);
    assert.ok(lines.includes('waiting for etcd to be healthy: SKIP'));
    assert.ok(lines.includes('waiting for etcd members to be consistent across nodes: SKIP'));
    assert.ok(lines.includes('waiting for etcd members to be control plane nodes: SKIP'));
    assert.ok(lines.includes('waiting for kubelet to be healthy: SKIP (skipped on request)'));
  });

  it('end at the deadline with Talos context error, the last reason reported', async () => {
    const c = healthy();
    c.down.add(W);
    const { lines, error } = await run(c, { timeoutMs: 300 });
    assert.ok(error instanceof HealthDeadlineError);
    assert.equal((error as Error).message, 'context deadline exceeded');
    assert.equal(lines.at(-1), `waiting for apid to be ready: 1 error occurred:\n\t* ${W}: rpc error: code = Unavailable desc = connection refused`);
  });

  it('do not report an attempt the deadline cut short, nor start one once the deadline has passed', async () => {
    // the first attempt fails for a reason; every later one waits until its signal ends it, as a call to a hung node
    class Hanging extends FakeCluster {
      calls = 0;
      override async version(nodes: string[], o?: HealthCallOptions) {
        if (++this.calls === 1) return super.version(nodes);
        const signal = o?.signal ?? AbortSignal.abort();
        await new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })));
        throw new Error('rpc error: code = Canceled desc = context canceled');
      }
    }
    const c = healthy(new Hanging());
    c.down.add(W);
    // the deadline's timer does not hold the event loop open, and here nothing else would
    const keepAlive = setInterval(() => {}, 1000);
    try {
      const { lines, error } = await run(c, { timeoutMs: 200 });
      assert.ok(error instanceof HealthDeadlineError);
      assert.equal(lines.at(-1), `waiting for apid to be ready: 1 error occurred:\n\t* ${W}: rpc error: code = Unavailable desc = connection refused`);
      assert.equal(c.calls, 2);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('word the failures as Talos does: members, memory, stages, time', async () => {
    const c = healthy();
    c.members = [member('cp-1', '1', CP), member('cp-2', '2', '10.5.0.9')];
    let r = await run(c, { timeoutMs: 200 });
    assert.equal(r.lines.at(-1), `waiting for etcd members to be control plane nodes: etcd member ips ["${CP}" "10.5.0.9"] are not subset of control plane node ips ["${CP}"]`);

    const m = healthy();
    m.mode.set(W, 'metal');
    m.memKiB.set(W, 512 * 1024);
    r = await run(m, { timeoutMs: 200 });
    assert.equal(r.lines.at(-1), `waiting for all nodes memory sizes: 1 error occurred:\n\t* node "${W}" does not meet memory requirements: expected at least 874 MiB, actual 512 MiB`);

    const s = healthy();
    s.stage.set(W, 'booting');
    r = await run(s, { timeoutMs: 200 });
    assert.equal(r.lines.at(-1), `waiting for all nodes to finish boot sequence: nodes are not running: booting: [${W}]`);

    const t = healthy();
    t.synced.set(W, false);
    r = await run(t, { timeoutMs: 200 });
    assert.equal(r.lines.at(-1), `waiting for time to be synced: 1 error occurred:\n\t* ${W}: time is not in sync yet`);
  });

  it('a metal node makes the disk size check skip (Bronze has no volume status)', async () => {
    const c = healthy();
    c.mode.set(CP, 'metal');
    const { lines } = await run(c);
    assert.ok(lines.includes('waiting for all nodes disk sizes: SKIP'));
  });

  it('print errors and string lists as Go does', () => {
    assert.equal(multiError(['a']), '1 error occurred:\n\t* a');
    assert.equal(multiError(['a', 'b']), '2 errors occurred:\n\t* a\n\t* b');
    assert.equal(goQuoted(['1.2.3.4', 'x']), '["1.2.3.4" "x"]');
  });
});
