import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLocalTarget, localTargets } from './main.js';

const config = (listenAddress: string) => ({ listenAddress, nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false });

describe('isLocalTarget', () => {
  it('knows the host apid listens on before the node has any addresses', () => {
    assert.equal(isLocalTarget('127.77.21.2', { config: config('127.77.21.2:50000') }), true);
    assert.equal(isLocalTarget('127.77.21.3', { config: config('127.77.21.2:50000') }), false);
    assert.equal(isLocalTarget('fd00::2', { config: config('[fd00::2]:50000') }), true);
    assert.equal(isLocalTarget('[fd00::2]', { config: config('[fd00::2]:50000') }), true);
    // every address: says nothing about which one is this node's
    assert.equal(isLocalTarget('::', { config: config(':50000') }), false);
    assert.equal(isLocalTarget('0.0.0.0', { config: config('0.0.0.0:50000') }), false);
  });

  it('knows the node addresses and the hostname, bare or with its domain', () => {
    const node = {
      config: config(':50000'),
      addresses: { addresses: ['10.5.0.2/24', 'fd00::2/64'], sortAlgorithm: 'v1' as const },
      hostname: { hostname: 'cp-1', domainname: 'example.org' },
    };
    assert.equal(isLocalTarget('10.5.0.2', node), true);
    assert.equal(isLocalTarget('fd00::2', node), true);
    assert.equal(isLocalTarget('[fd00::2]', node), true);
    assert.equal(isLocalTarget('cp-1', node), true);
    assert.equal(isLocalTarget('cp-1.example.org', node), true);
    assert.equal(isLocalTarget('10.5.0.3', node), false);
    assert.equal(isLocalTarget('cp-2', node), false);
    assert.equal(isLocalTarget('10.5.0', node), false);
  });

  it('follows the node when its specs are replaced', () => {
    const node: Parameters<typeof localTargets>[0] = { config: config(':50000') };
    const isLocal = localTargets(node);
    assert.equal(isLocal('10.5.0.2'), false);
    node.addresses = { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' };
    assert.equal(isLocal('10.5.0.2'), true);
    assert.equal(isLocal('[10.5.0.2]'), true);
    node.hostname = { hostname: 'cp-1', domainname: '' };
    assert.equal(isLocal('cp-1'), true);
    assert.equal(isLocal('cp-1.'), false);
    node.addresses = { addresses: ['10.5.0.3/24'], sortAlgorithm: 'v1' };
    assert.equal(isLocal('10.5.0.2'), false);
    assert.equal(isLocal('10.5.0.3'), true);
  });
});
