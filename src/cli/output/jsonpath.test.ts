import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateJSONPath } from './jsonpath.js';
import { tabulate } from './tabwriter.js';

describe('print column JSONPath', () => {
  const spec = { hostname: 'cp-1', status: { ready: true }, addresses: ['10.0.0.2/24', 'fd00::2/64'], aliases: ['a', 'b'] };
  it('evaluates the expressions Talos print columns use', () => {
    assert.equal(evaluateJSONPath('{.hostname}', spec), 'cp-1');
    assert.equal(evaluateJSONPath('{.status.ready}', spec), 'true');
    assert.equal(evaluateJSONPath('{.addresses}', spec), '["10.0.0.2/24","fd00::2/64"]');
    assert.equal(evaluateJSONPath('{.aliases[:]}', spec), 'a b');
    assert.equal(evaluateJSONPath('{.aliases[1]}', spec), 'b');
    assert.equal(evaluateJSONPath('{.missing.key}', spec), '');
    assert.equal(evaluateJSONPath('{@}', 'controlplane'), 'controlplane');
  });
});

describe('tabulate', () => {
  it('aligns columns with three spaces of padding, as tabwriter', () => {
    assert.equal(
      tabulate([
        ['NODE', 'SERVICE', 'STATE'],
        ['10.5.0.2', 'apid', 'Running'],
      ]),
      'NODE       SERVICE   STATE\n10.5.0.2   apid      Running\n',
    );
  });
});
