import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEndpoint } from './endpoint.js';
import { ClientError } from './errors.js';

describe('parseEndpoint', () => {
  it('adds the default port and keeps a given one', () => {
    assert.deepEqual(parseEndpoint('10.5.0.2'), { host: '10.5.0.2', port: 50000, plaintext: false, address: '10.5.0.2:50000' });
    assert.equal(parseEndpoint('node.example:50001').address, 'node.example:50001');
    assert.equal(parseEndpoint('https://10.0.0.1:443/').address, '10.0.0.1:443');
  });

  it('handles IPv6 with and without brackets', () => {
    assert.equal(parseEndpoint('fd00::1').address, '[fd00::1]:50000');
    assert.equal(parseEndpoint('[fd00::1]').address, '[fd00::1]:50000');
    assert.equal(parseEndpoint('[fd00::1]:4000').address, '[fd00::1]:4000');
  });

  it('takes http:// as plaintext and unix sockets', () => {
    assert.equal(parseEndpoint('http://127.0.0.1:8080').plaintext, true);
    assert.deepEqual(parseEndpoint('unix:///run/machined.sock'), { host: 'localhost', port: 0, plaintext: true, address: 'unix:/run/machined.sock' });
  });

  it('names what is wrong', () => {
    for (const [bad, why] of [
      ['', /empty/],
      ['10.0.0.1:0', /invalid port "0"/],
      ['10.0.0.1:99999', /invalid port/],
      ['ftp://x', /unsupported scheme "ftp"/],
      ['[fd00::1', /missing "]"/],
      [':50000', /invalid host/],
    ] as const) {
      assert.throws(() => parseEndpoint(bad), (e: unknown) => e instanceof ClientError && e.code === 'BRONZE_CLIENT_ENDPOINT' && why.test(e.message), bad);
    }
  });
});
