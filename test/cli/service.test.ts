import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { ServiceListResponse, ServiceRestartRequest, ServiceRestartResponse } from '../../src/api/gen/machine/machine.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl service', () => {
  const node = new FakeNode();
  const ago = (s: number) => new Date(Date.now() - s * 1000);
  before(() => {
    const serviceList: handleUnaryCall<unknown, ServiceListResponse> = (_c, cb) =>
      cb(null, {
        messages: [
          {
            metadata: undefined,
            services: [
              {
                id: 'apid',
                state: 'Running',
                health: { unknown: false, healthy: true, lastMessage: '', lastChange: ago(60) },
                events: { events: [{ msg: 'Starting service', state: 'Starting', ts: ago(125) }, { msg: 'Health check successful', state: 'Running', ts: ago(63) }] },
              },
              { id: 'etcd', state: 'Preparing', health: { unknown: true, healthy: false, lastMessage: '', lastChange: undefined }, events: { events: [] } },
            ],
          },
        ],
      });
    const serviceRestart: handleUnaryCall<ServiceRestartRequest, ServiceRestartResponse> = (c, cb) => cb(null, { messages: [{ metadata: undefined, resp: `Service "${c.request.id}" restarted` }] });
    return node.start({ serviceList, serviceRestart });
  });
  after(() => node.stop());

  it('lists services as talosctl does', async () => {
    const r = await node.bronzectl('services');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'NODE        SERVICE   STATE       HEALTH   LAST CHANGE   LAST EVENT',
        '127.0.0.1   apid      Running     OK       1m3s ago      Health check successful',
        '127.0.0.1   etcd      Preparing   ?         ago          <none>',
        '',
      ].join('\n'),
    );
  });

  it('shows one service with its events, newest first', async () => {
    const r = await node.bronzectl('service', 'apid');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NODE     127\.0\.0\.1\nID       apid\nSTATE    Running\nHEALTH   OK\nEVENTS   \[Running\]: Health check successful \(1m3s ago\)\n         \[Starting\]: Starting service \(2m5s ago\)\n$/);
    assert.match((await node.bronzectl('service', 'nope')).stderr, /service "nope" is not registered on any nodes/);
  });

  it('restarts a service and prints the answer per node', async () => {
    const r = await node.bronzectl('service', 'kubelet', 'restart');
    assert.equal(r.stdout, 'NODE        RESPONSE\n127.0.0.1   Service "kubelet" restarted\n');
  });

  it('prints JSON and YAML', async () => {
    const j = await node.bronzectl('services', '-o', 'json');
    const parsed = JSON.parse(j.stdout);
    assert.equal(parsed.node, '127.0.0.1');
    assert.equal(parsed.services[0].id, 'apid');
    const y = await node.bronzectl('services', '-o', 'yaml');
    assert.match(y.stdout, /^node: 127\.0\.0\.1\nservices:\n {2}- id: apid\n/);
    assert.match((await node.bronzectl('services', '-o', 'xml')).stderr, /--output: unknown format "xml"/);
  });
});
