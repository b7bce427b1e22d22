import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import pino from 'pino';
import { generateBundle } from '../../config/generate/config.js';
import type { MemberSpec } from '../../resources/cluster/member.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import type { KubePrismConfigSpec, KubePrismEndpointsSpec, KubePrismStatusesSpec } from '../../resources/k8s/kubeprism.js';
import { ControllerTest } from '../ctest.js';
import { KubePrismController } from './kubeprism.js';
import { KubePrismConfigController } from './kubeprism-config.js';
import { endpointHostPort, KubePrismEndpointsController, kubePrismEndpointsOf } from './kubeprism-endpoints.js';
import { latencyTier, splitHostPort, TCPLoadBalancer } from './load-balancer.js';

const member = (addresses: string[], port?: number): MemberSpec => ({
  nodeId: addresses[0]!,
  addresses,
  hostname: `n-${addresses[0]}`,
  machineType: port ? 'controlplane' : 'worker',
  operatingSystem: 'Bronze',
  ...(port ? { controlPlane: { port } } : {}),
});

/** A TCP server answering every line with its name and the line. */
async function echo(name: string, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await echo('probe');
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Sends one line through `port` and returns the answer. */
async function ask(port: number, line: string): Promise<string> {
  const s = connect({ host: '127.0.0.1', port });
  try {
    await once(s, 'connect');
    s.write(line);
    const [d] = (await once(s, 'data')) as [Buffer];
    return d.toString();
  } finally {
    s.destroy();
  }
}

describe('KubePrism endpoints', () => {
  it('are the cluster endpoint, the local API server on control planes, then the control plane members', () => {
    const cluster = { controlPlane: { endpoint: 'https://cp.example:6443', localAPIServerPort: 7443 } };
    const members = [member(['10.5.0.2', 'fd00::2'], 6443), member(['10.5.0.3'])];
    assert.deepEqual(kubePrismEndpointsOf({ type: 'controlplane' }, cluster, members), [
      { host: 'cp.example', port: 6443 },
      { host: 'localhost', port: 7443 },
      { host: '10.5.0.2', port: 6443 },
      { host: 'fd00::2', port: 6443 },
    ]);
    assert.deepEqual(kubePrismEndpointsOf({ type: 'worker' }, { controlPlane: { endpoint: 'https://[fd00::1]' } }, []), [{ host: 'fd00::1', port: 443 }]);
    assert.deepEqual(kubePrismEndpointsOf({ type: 'init' }, {}, []), [{ host: 'localhost', port: 6443 }]);
    assert.equal(endpointHostPort('not a url'), undefined);
  });

  it('load balancer helpers: latency tiers and host:port parsing', () => {
    assert.deepEqual([0, 0.05, 0.5, 5, 50, 500, 5000].map(latencyTier), [0, 0, 1, 2, 3, 4, 5]);
    assert.deepEqual(splitHostPort('[fd00::1]:6443'), { host: 'fd00::1', port: 6443 });
    assert.deepEqual(splitHostPort('localhost:7445'), { host: 'localhost', port: 7445 });
    assert.throws(() => splitHostPort('localhost'), /upstream "localhost" has no port/);
    assert.throws(() => splitHostPort('localhost:99999'), /upstream "localhost:99999" has an invalid port/);
  });

  it('a dial that fails goes on to the next upstream, and marks the failed one down', { timeout: 10_000 }, async () => {
    const up = await echo('b');
    const dead = await freePort();
    const lb = new TCPLoadBalancer({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), healthIntervalMs: 60_000 });
    await lb.start();
    try {
      // two upstreams, one of them closed; before any probe answers both are candidates
      lb.setUpstreams([`127.0.0.1:${dead}`, `127.0.0.1:${up.port}`]);
      const port = Number(lb.endpoint.split(':')[1]);
      for (let i = 0; i < 4; i++) assert.equal(await ask(port, `hi${i}`), `b:hi${i}`);
      assert.equal(lb.healthy(), true);
    } finally {
      await lb.stop();
      up.server.close();
    }
  });
});

describe('KubePrism', () => {
  it('listens where its config says, passes connections to a live API server, reports health, and stops when disabled', { timeout: 30_000 }, async () => {
    const a = await echo('a');
    const prismPort = await freePort();
    const bundle = await generateBundle({ clusterName: 'prism', endpoint: `https://127.0.0.1:${a.port}`, kubePrismPort: prismPort });
    const t = ControllerTest.start([new KubePrismEndpointsController(), new KubePrismConfigController('127.0.0.1'), new KubePrismController({ healthIntervalMs: 50, healthTimeoutMs: 1000 })], { deadlineMs: 10_000 });
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const endpointsPtr = { namespace: 'k8s', type: 'KubePrismEndpoints.kubernetes.talos.dev', id: 'k8s-cluster' };
    const configPtr = { namespace: 'k8s', type: 'KubePrismConfigs.kubernetes.talos.dev', id: 'k8s-loadbalancer-config' };
    const statusPtr = { namespace: 'k8s', type: 'KubePrismStatuses.kubernetes.talos.dev', id: 'k8s-loadbalancer' };
    let b: { server: Server; port: number } | undefined;
    try {
      await t.create(cfgPtr, { text: bundle.worker.toString() });
      assert.deepEqual((await t.expect<KubePrismEndpointsSpec>(endpointsPtr)).endpoints, [{ host: '127.0.0.1', port: a.port }]);
      const cfg = await t.expect<KubePrismConfigSpec>(configPtr);
      assert.deepEqual(cfg, { host: '127.0.0.1', port: prismPort, endpoints: [{ host: '127.0.0.1', port: a.port }] });
      await t.expect<KubePrismStatusesSpec>(statusPtr, (s) => s.healthy && s.host === `127.0.0.1:${prismPort}`);
      assert.equal(await ask(prismPort, 'get /version'), 'a:get /version');

      // a discovered control plane joins the upstreams
      b = await echo('b');
      await t.create({ namespace: 'cluster', type: 'Members.cluster.talos.dev', id: 'cp-2' }, member(['127.0.0.1'], b.port));
      await t.expect<KubePrismConfigSpec>(configPtr, (c) => c.endpoints.length === 2 && c.endpoints[1]!.port === b!.port);

      // the cluster endpoint goes away: connections go to the member, KubePrism stays healthy
      await new Promise<void>((r) => a.server.close(() => r()));
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) answers.add(await ask(prismPort, 'x'));
      assert.deepEqual([...answers], ['b:x']);
      await t.expect<KubePrismStatusesSpec>(statusPtr, (s) => s.healthy);

      // no API server answers: unhealthy
      await new Promise<void>((r) => b!.server.close(() => r()));
      await t.expect<KubePrismStatusesSpec>(statusPtr, (s) => !s.healthy);

      // disabled: the status goes, and so does the listener
      const off = bundle.worker.toString().replace(/kubePrism:\n(\s+)enabled: true/, 'kubePrism:\n$1enabled: false');
      assert.notEqual(off, bundle.worker.toString());
      await t.update<{ text: string }>(cfgPtr, () => ({ text: off }));
      await t.expectGone(configPtr);
      await t.expectGone(statusPtr);
      const refused = connect({ host: '127.0.0.1', port: prismPort });
      const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      assert.equal(err.code, 'ECONNREFUSED');
    } finally {
      await t.stop();
      a.server.close();
      b?.server.close();
    }
  });
});
