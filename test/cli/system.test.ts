import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { ControllerRuntimeDependenciesResponse } from '../../src/api/gen/inspect/inspect.js';
import { InspectServiceService } from '../../src/api/gen/inspect/inspect.js';
import { MemInfo, type MemoryResponse, type MountsResponse } from '../../src/api/gen/machine/machine.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl memory, mounts, inspect dependencies', () => {
  const node = new FakeNode();
  before(async () => {
    const memory: handleUnaryCall<unknown, MemoryResponse> = (_c, cb) =>
      cb(null, { messages: [{ metadata: undefined, meminfo: MemInfo.fromPartial({ memtotal: '16384000', memfree: '8192000', cached: '2048000', buffers: '1024000', shmem: '512000', memavailable: '12000000' }) }] });
    const mounts: handleUnaryCall<unknown, MountsResponse> = (_c, cb) =>
      cb(null, {
        messages: [
          {
            metadata: undefined,
            stats: [
              { filesystem: '/dev/vda1', size: '10000000000', available: '7500000000', mountedOn: '/var' },
              { filesystem: 'proc', size: '0', available: '0', mountedOn: '/proc' },
            ],
          },
        ],
      });
    await node.start({ memory, mounts });
    const deps: handleUnaryCall<unknown, ControllerRuntimeDependenciesResponse> = (_c, cb) =>
      cb(null, { messages: [{ metadata: undefined, edges: [{ controllerName: 'network.HostnameSpecController', edgeType: 1, resourceNamespace: 'network', resourceType: 'HostnameSpecs.net.talos.dev', resourceId: '' }] }] });
    node.server.addService(InspectServiceService, { controllerRuntimeDependencies: deps });
  });
  after(() => node.stop());

  it('prints memory in MiB as talosctl does, and verbose in kB', async () => {
    const r = await node.bronzectl('memory');
    assert.equal(r.stdout, 'NODE        TOTAL   USED   FREE   SHARED   BUFFERS   CACHE   AVAILABLE\n127.0.0.1   16000   5000   8000   500      1000      2000    11718\n');
    const v = await node.bronzectl('memory', '-v');
    assert.match(v.stdout, /^NODE: 127\.0\.0\.1\nMemTotal: 16384000 kB\nMemFree: 8192000 kB\n/);
  });

  it('prints mounts with sizes and leaves out sizeless filesystems', async () => {
    const r = await node.bronzectl('mounts');
    assert.equal(r.stdout, 'NODE        FILESYSTEM   SIZE(GB)   USED(GB)   AVAILABLE(GB)   PERCENT USED   MOUNTED ON\n127.0.0.1   /dev/vda1    10.00      2.50       7.50            25.00%         /var\n');
  });

  it('prints the controller graph as graphviz', async () => {
    const r = await node.bronzectl('inspect', 'dependencies');
    assert.equal(r.code, 0, r.stderr);
    // talosctl's layout: numbered nodes, controllers as boxes, resources as notes, an edge per dependency
    assert.equal(
      r.stdout,
      'digraph  {\n\tn1[label="network.HostnameSpecController",shape="box"];\n\tn2[fillcolor="azure2",label="HostnameSpecs.net.talos.dev",shape="note",style="filled"];\n\tn2->n1[style="solid"];\n}\n',
    );
  });
});
