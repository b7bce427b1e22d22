import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type handleServerStreamingCall, status } from '@grpc/grpc-js';
import type { Data } from '../../src/api/gen/common/common.js';
import type { LogsRequest, ReadRequest } from '../../src/api/gen/machine/machine.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl logs, dmesg, read', () => {
  const node = new FakeNode();
  const seen: LogsRequest[] = [];
  before(() => {
    const data = (host: string, text: string, error = '') => ({ metadata: host ? { hostname: host, error, status: undefined } : undefined, bytes: Buffer.from(text) });
    const logs: handleServerStreamingCall<LogsRequest, Data> = (call) => {
      seen.push(call.request);
      // chunks of two nodes, interleaved and cut mid-line, then one node's error
      call.write(data('10.5.0.2', 'first li'));
      call.write(data('10.5.0.3', 'other node\nsecond'));
      call.write(data('10.5.0.2', 'ne\nsecond line\n'));
      call.write(data('10.5.0.3', ' line\n'));
      call.write(data('10.5.0.4', '', 'rpc error: code = Unavailable desc = connection refused'));
      call.end();
    };
    const dmesg: handleServerStreamingCall<unknown, Data> = (call) => {
      call.write(data('', '[    0.000000] Linux version 6.1.0\n'));
      call.end();
    };
    const read: handleServerStreamingCall<ReadRequest, Data> = (call) => {
      if (call.request.path === '/missing') return void call.emit('error', { code: status.NOT_FOUND, details: 'open /missing: no such file or directory' });
      call.write(data('', 'line 1\n'));
      call.write(data('', 'line 2\n'));
      call.end();
    };
    return node.start({ logs, dmesg, read });
  });
  after(() => node.stop());

  it('prints log lines per node, whole, and node errors on stderr', async () => {
    const r = await node.bronzectl('logs', 'apid', '--tail', '5', '-f');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '10.5.0.3: other node\n10.5.0.2: first line\n10.5.0.2: second line\n10.5.0.3: second line\n');
    assert.equal(r.stderr, 'error: node 10.5.0.4: connection refused\n');
    assert.deepEqual(seen.at(-1), { namespace: 'system', id: 'apid', driver: 0, follow: true, tailLines: 5 });
    await node.bronzectl('logs', '-k', 'kubelet');
    assert.deepEqual(seen.at(-1), { namespace: 'k8s.io', id: 'kubelet', driver: 1, follow: false, tailLines: -1 });
    const j = await node.bronzectl('logs', 'apid', '-o', 'json');
    assert.deepEqual(JSON.parse(j.stdout.split('\n')[0]!), { node: '10.5.0.3', message: 'other node' });
  });

  it('prints the kernel log with the endpoint as node', async () => {
    const r = await node.bronzectl('dmesg');
    assert.equal(r.stdout, '127.0.0.1: [    0.000000] Linux version 6.1.0\n');
  });

  it('reads files as raw bytes and names what is missing', async () => {
    assert.equal((await node.bronzectl('read', '/etc/hosts')).stdout, 'line 1\nline 2\n');
    const missing = await node.bronzectl('cat', '/missing');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NotFound desc = open \/missing: no such file or directory/);
  });
});
