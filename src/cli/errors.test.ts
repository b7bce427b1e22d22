import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { NodeError, RpcError } from '../client/errors.js';
import { causeOf, describeError, nodeFailure } from './errors.js';

describe('CLI error lines', () => {
  it('names the endpoint that could not be reached, or each of them', () => {
    const one = new RpcError(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 10.5.0.9:50000. Resolution note: ', '10.5.0.9:50000');
    assert.equal(describeError(one), 'endpoint 10.5.0.9:50000: connection refused');
    const both = new RpcError(status.UNAVAILABLE, '10.5.0.8:50000: connect ECONNREFUSED 10.5.0.8:50000; 10.5.0.9:50000: connect EHOSTUNREACH 10.5.0.9:50000', '10.5.0.9:50000');
    assert.equal(describeError(both), 'endpoint 10.5.0.8:50000: connection refused; endpoint 10.5.0.9:50000: no route to host');
  });

  it('names the node behind a working endpoint that did not answer', () => {
    const proxied = new RpcError(status.UNAVAILABLE, 'The pending stream has been canceled (caused by: connect ECONNREFUSED 10.5.0.3:50000)', '10.5.0.2:50000');
    assert.equal(describeError(proxied), 'node 10.5.0.3: connection refused');
    assert.equal(nodeFailure('10.5.0.3', proxied), 'node 10.5.0.3: connection refused');
  });

  it('keeps a server error as talosctl prints it, once, and shortens the transport ones a peer passes on', () => {
    assert.equal(causeOf(new RpcError(status.NOT_FOUND, 'open /x: no such file or directory')), 'rpc error: code = NotFound desc = open /x: no such file or directory');
    assert.equal(nodeFailure('n', new NodeError('10.5.0.4', 'rpc error: code = Unavailable desc = connection refused', status.UNAVAILABLE)), 'node 10.5.0.4: connection refused');
    assert.equal(nodeFailure('n', new NodeError('10.5.0.4', 'rpc error: code = PermissionDenied desc = not authorized')), 'node 10.5.0.4: rpc error: code = PermissionDenied desc = not authorized');
    assert.equal(causeOf(new RpcError(status.UNAVAILABLE, 'Connection dropped: 140:error:sslv3 alert certificate expired')), 'the client certificate was refused: it has expired');
    assert.equal(causeOf(new RpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 10.001s')), 'timed out');
    assert.equal(describeError(new Error('plain')), 'plain');
  });
});
