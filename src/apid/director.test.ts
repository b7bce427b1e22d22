import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { route, splitNodes } from './director.js';

const md = (m: Record<string, string[]>) => (k: string) => m[k] ?? [];
const cp = { routingDisabled: false, canForward: true, isLocal: (t: string) => t === '10.0.0.1' || t === 'cp-1' };
const worker = { ...cp, canForward: false };
const V = '/machine.MachineService/Version';

describe('apid director', () => {
  it('sends calls without routing keys, already proxied calls and maintenance calls to machined', () => {
    assert.deepEqual(route(V, md({}), cp), { kind: 'local' });
    assert.deepEqual(route(V, md({ proxyfrom: ['10.0.0.9'], nodes: ['10.0.0.2'] }), cp), { kind: 'local' });
    assert.deepEqual(route(V, md({ nodes: ['10.0.0.2'] }), { ...cp, routingDisabled: true }), { kind: 'local' });
  });

  it('fans out nodes, joined by Node or repeated by Go', () => {
    assert.deepEqual(route(V, md({ nodes: ['10.0.0.1, 10.0.0.2'] }), cp), { kind: 'many', targets: ['10.0.0.1', '10.0.0.2'] });
    assert.deepEqual(route(V, md({ nodes: ['10.0.0.1', '10.0.0.2'] }), cp), { kind: 'many', targets: ['10.0.0.1', '10.0.0.2'] });
  });

  it('proxies node one-to-one, for any method', () => {
    assert.deepEqual(route('/cosi.resource.State/Get', md({ node: ['10.0.0.2'] }), cp), { kind: 'one', target: '10.0.0.2' });
  });

  it('refuses fan-out of services without the per-node envelope', () => {
    const r = route('/cosi.resource.State/List', md({ nodes: ['a', 'b'] }), cp);
    assert.deepEqual(r, { kind: 'error', code: status.INVALID_ARGUMENT, message: 'one-2-many proxying is not supported for method /cosi.resource.State/List' });
  });

  it('refuses multi-valued node', () => {
    assert.equal((route(V, md({ node: ['a', 'b'] }), cp) as { code: number }).code, status.INVALID_ARGUMENT);
    assert.equal((route(V, md({ node: ['a,b'] }), cp) as { message: string }).message, 'node metadata must be single-valued');
  });

  it('lets a worker answer for itself but not forward', () => {
    assert.deepEqual(route(V, md({ node: ['10.0.0.1'] }), worker), { kind: 'local' });
    assert.deepEqual(route(V, md({ nodes: ['cp-1'] }), worker), { kind: 'local' });
    assert.deepEqual(route(V, md({ node: ['10.0.0.2'] }), worker), { kind: 'error', code: status.PERMISSION_DENIED, message: 'no request forwarding' });
    assert.deepEqual(route(V, md({ nodes: ['10.0.0.1', '10.0.0.2'] }), worker), { kind: 'error', code: status.PERMISSION_DENIED, message: 'no request forwarding' });
  });

  it('splits node lists', () => {
    assert.deepEqual(splitNodes(['a, b', 'c', '', ' d ']), ['a', 'b', 'c', 'd']);
  });
});
