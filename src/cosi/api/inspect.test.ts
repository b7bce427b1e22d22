import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import pino from 'pino';
import { DependencyEdgeType, InspectServiceService } from '../../api/gen/inspect/inspect.js';
import { Client } from '../../client/client.js';
import { TransformController } from '../controller/generic/transform.js';
import { ControllerRuntime } from '../controller/runtime.js';
import { InMemoryState } from '../inmem.js';
import { State } from '../state.js';
import { inspectService } from './inspect.js';

it('serves the controller dependency graph over InspectService', async () => {
  const rt = new ControllerRuntime(new State(new InMemoryState()), pino({ level: 'silent' }));
  rt.register(
    new TransformController({
      name: 'network.HostnameSpecController',
      input: { namespace: 'network', type: 'HostnameSpecs.net.talos.dev' },
      output: { namespace: 'network', type: 'HostnameStatuses.net.talos.dev' },
      emptySpec: () => ({}),
      mapID: (r) => r.metadata.id,
      transform: () => {},
      inputFinalizers: true,
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'bronze-inspect-'));
  const server = new Server();
  server.addService(InspectServiceService, inspectService(rt));
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${join(dir, 's.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  const client = new Client({ endpoints: [`unix://${join(dir, 's.sock')}`], tls: {} });
  try {
    const res = await client.inspect.controllerRuntimeDependencies();
    assert.equal(res.messages.length, 1);
    assert.deepEqual(
      res.messages[0]!.edges.map((e) => [e.controllerName, e.edgeType, e.resourceNamespace, e.resourceType]),
      [
        ['network.HostnameSpecController', DependencyEdgeType.OUTPUT_EXCLUSIVE, '', 'HostnameStatuses.net.talos.dev'],
        ['network.HostnameSpecController', DependencyEdgeType.INPUT_STRONG, 'network', 'HostnameSpecs.net.talos.dev'],
        ['network.HostnameSpecController', DependencyEdgeType.INPUT_DESTROY_READY, 'network', 'HostnameStatuses.net.talos.dev'],
      ],
    );
  } finally {
    client.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
