import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Metadata, type ServerWritableStream, status } from '@grpc/grpc-js';
import pino from 'pino';
import type { HealthCheckProgress, HealthCheckRequest } from '../../api/gen/cluster/cluster.js';
import { clusterService, SKIP_CHECKS_METADATA_KEY } from './cluster-service.js';
import type { HealthAPI } from './health-checks.js';

const CP_CONFIG = 'version: v1alpha1\nmachine:\n  type: controlplane\ncluster: {}\n';
const WORKER_CONFIG = 'version: v1alpha1\nmachine:\n  type: worker\ncluster: {}\n';

/** Calls HealthCheck as grpc-js would: the streamed messages, then the end or the error status. */
function healthCheck(config: string | undefined, request: Partial<HealthCheckRequest>, md: Record<string, string> = {}, api?: HealthAPI) {
  const roles: string[][] = [];
  const svc = clusterService({
    logger: pino({ level: 'silent' }),
    config: async () => config,
    apiEndpoint: '127.0.0.1:50000',
    healthAPI: async (r) => {
      roles.push(r);
      if (!api) throw new Error('no API in this test');
      return { api, close: () => undefined };
    },
  });
  const call = Object.assign(new EventEmitter(), {
    request: { waitTimeout: undefined, clusterInfo: undefined, ...request },
    metadata: new Metadata(),
    cancelled: false,
    writableEnded: false,
    messages: [] as string[],
    write(m: HealthCheckProgress) {
      call.messages.push(m.message);
      return true;
    },
    end() {
      call.writableEnded = true;
      call.emit('done', undefined);
    },
  });
  for (const [k, v] of Object.entries(md)) call.metadata.set(k, v);
  call.on('error', (e) => call.emit('done', e));
  const done = new Promise<{ code: status; details: string } | undefined>((resolve) => call.once('done', resolve));
  svc.healthCheck(call as unknown as ServerWritableStream<HealthCheckRequest, HealthCheckProgress>);
  return { done, messages: call.messages, roles };
}

/** A cluster of one control plane where everything passes at once. */
const passing: HealthAPI = {
  version: async (nodes) => ({ messages: nodes.map((n) => ({ node: n, value: { metadata: undefined, version: undefined, features: undefined, platform: { name: 'process', mode: 'container' } } })), errors: [] }),
  serviceList: async (nodes) => ({ messages: nodes.map((n) => ({ node: n, value: { metadata: undefined, services: [] } })), errors: [] }),
  etcdMemberList: async () => ({ messages: [], errors: [] }),
  memory: async () => ({ messages: [], errors: [] }),
  machineStage: async () => 'running',
  timeSynced: async () => true,
};

describe('cluster.ClusterService HealthCheck', () => {
  it('runs on control planes only, with Talos messages', async () => {
    assert.deepEqual(await healthCheck(undefined, {}).done, { code: status.UNIMPLEMENTED, details: 'machine type is not set, cannot use cluster health check API' });
    assert.deepEqual(await healthCheck(WORKER_CONFIG, {}).done, { code: status.UNIMPLEMENTED, details: 'cluster health check is only available on control plane nodes' });
  });

  it('needs the nodes in the cluster info: Bronze nodes have no discovery', async () => {
    const r = await healthCheck(CP_CONFIG, { waitTimeout: { seconds: '60', nanos: 0 } });
    assert.equal((await r.done)?.code, status.FAILED_PRECONDITION);
  });

  it('streams the discovered nodes and every check, with the caller roles and the skips it was given', async () => {
    const r = await healthCheck(
      CP_CONFIG,
      { waitTimeout: { seconds: '60', nanos: 0 }, clusterInfo: { controlPlaneNodes: ['10.5.0.2'], workerNodes: ['10.5.0.3'], forceEndpoint: '' } },
      { 'talos-role': 'os:operator', [SKIP_CHECKS_METADATA_KEY]: 'kubelet' },
      passing,
    );
    assert.equal(await r.done, undefined);
    assert.deepEqual(r.roles, [['os:operator']]);
    assert.equal(r.messages[0], 'discovered nodes: ["10.5.0.2" "10.5.0.3"]');
    assert.ok(r.messages.includes('waiting for apid to be ready: OK'));
    assert.ok(r.messages.includes('waiting for kubelet to be healthy: SKIP (skipped on request)'));
    assert.equal(r.messages.at(-1), 'waiting for all k8s nodes to report schedulable: SKIP (Kubernetes checks are not run by Bronze nodes)');
  });

  it('a zero wait ends at once with DeadlineExceeded, as Talos', async () => {
    const r = await healthCheck(CP_CONFIG, { clusterInfo: { controlPlaneNodes: ['10.5.0.2'], workerNodes: [], forceEndpoint: '' } }, {}, passing);
    assert.deepEqual(await r.done, { code: status.DEADLINE_EXCEEDED, details: 'context deadline exceeded' });
    assert.deepEqual(r.roles, [['os:reader']]);
  });
});
