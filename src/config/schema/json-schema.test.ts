import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dur, int, list, map, obj, size, str, strOrList, uint16 } from './dsl.js';
import { schemaErrorMessage, validatorFor } from './json-schema.js';

const schema = obj({
  name: str({ pattern: '^[a-z]+$' }),
  mode: str({ enum: ['a', 'b'] }),
  port: uint16(),
  count: int({ min: 1 }),
  address: str({ format: 'ip' }),
  timeout: dur(),
  size: size(),
  args: map(strOrList()),
  subnets: list(str({ format: 'cidr' })),
});

/** The errors of one value as `path keyword: message` lines (in the order they are found). */
function errorsOf(value: unknown): string[] {
  const v = validatorFor(schema);
  const ok = v(value);
  assert.equal(ok, v.errors === null);
  return (v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}: ${schemaErrorMessage(e, value)}`);
}

describe('document validators', () => {
  it('accept a value that meets every constraint (empty addresses are the zero value)', () => {
    assert.deepEqual(errorsOf({ name: 'abc', mode: 'b', port: 65535, count: 1, address: '', timeout: '1m30s', size: '10GiB', args: { a: 'x', b: ['y'] }, subnets: ['10.0.0.0/8'] }), []);
    assert.deepEqual(errorsOf({}), []);
  });

  it('report every failed constraint with its path and a readable message', () => {
    assert.deepEqual(errorsOf({ name: 'A1', mode: 'c', port: 70000, count: 0, address: '10.0.0', timeout: '5 minutes', subnets: ['10.0.0.0/8', '10.0.0.0/33'], bogus: true }), [
      ' additionalProperties: unknown key "bogus"',
      '/name pattern: has an invalid format (got "A1")',
      '/mode enum: must be one of "a", "b" (got "c")',
      '/port maximum: must be <= 65535 (got 70000)',
      '/count minimum: must be >= 1 (got 0)',
      '/address format: is not a valid ip (got "10.0.0")',
      '/timeout pattern: has an invalid format (got "5 minutes")',
      '/subnets/1 format: is not a valid cidr (got "10.0.0.0/33")',
    ]);
  });

  it('report a wrong type, and an enum still applies to it', () => {
    assert.deepEqual(errorsOf({ mode: 3, port: 1.5, size: true }), [
      '/mode type: must be string (got 3)',
      '/mode enum: must be one of "a", "b" (got 3)',
      '/port type: must be integer (got 1.5)',
      '/size type: must be integer,string',
    ]);
  });

  it('report each branch of a failed anyOf, then the anyOf itself', () => {
    assert.deepEqual(errorsOf({ args: { a: 1 } }), ['/args/a type: must be string (got 1)', '/args/a type: must be array (got 1)', '/args/a anyOf: must match a schema in anyOf (got 1)']);
    assert.deepEqual(errorsOf({ args: { a: ['x', 2] } }), ['/args/a type: must be string', '/args/a/1 type: must be string (got 2)', '/args/a anyOf: must match a schema in anyOf']);
  });

  it('are made once per schema', () => {
    assert.equal(validatorFor(schema), validatorFor(schema));
  });
});
