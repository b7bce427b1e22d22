import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, DHCPFormatError, encode, leaseFromAck, MessageType, Option, parseClasslessRoutes, parseDomainSearch } from './dhcp4-packet.js';

const mac = Buffer.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

describe('DHCPv4 messages', () => {
  it('encode and decode round-trip, with long options split and joined', () => {
    const long = Buffer.alloc(600, 7);
    const m = {
      op: 2 as const,
      xid: 0xdeadbeef,
      secs: 3,
      broadcast: true,
      ciaddr: '0.0.0.0',
      yiaddr: '10.0.0.5',
      siaddr: '10.0.0.1',
      giaddr: '0.0.0.0',
      chaddr: mac,
      options: new Map<number, Buffer>([
        [Option.MessageType, Buffer.from([MessageType.Ack])],
        [Option.SubnetMask, Buffer.from([255, 255, 240, 0])],
        [Option.Router, Buffer.from([10, 0, 0, 1])],
        [Option.LeaseTime, Buffer.from([0, 0, 0x0e, 0x10])],
        [Option.MTU, Buffer.from([0x05, 0xdc])],
        [Option.Hostname, Buffer.from('node-1')],
        [224, long],
      ]),
    };
    const d = decode(encode(m));
    assert.equal(d.xid, 0xdeadbeef);
    assert.equal(d.broadcast, true);
    assert.equal(d.yiaddr, '10.0.0.5');
    assert.deepEqual(d.chaddr, mac);
    assert.deepEqual(d.options.get(224), long);
    const lease = leaseFromAck(d);
    assert.equal(lease.prefixLength, 20);
    assert.equal(lease.leaseTime, 3600);
    assert.equal(lease.renewalTime, 1800);
    assert.equal(lease.rebindingTime, 3150);
    assert.equal(lease.mtu, 1500);
    assert.equal(lease.hostname, 'node-1');
    assert.equal(lease.serverId, '10.0.0.1');
  });

  it('parses classless routes (RFC 3442) and domain search lists with compression (RFC 3397)', () => {
    assert.deepEqual(parseClasslessRoutes(Buffer.from([0, 10, 0, 0, 1, 16, 10, 99, 10, 0, 0, 2, 32, 1, 2, 3, 4, 10, 0, 0, 3])), [
      { destination: '0.0.0.0', prefixLength: 0, gateway: '10.0.0.1' },
      { destination: '10.99.0.0', prefixLength: 16, gateway: '10.0.0.2' },
      { destination: '1.2.3.4', prefixLength: 32, gateway: '10.0.0.3' },
    ]);
    // "eng.example.com", then "marketing" + pointer to "example.com" at offset 4
    const search = Buffer.from([3, ...Buffer.from('eng'), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 9, ...Buffer.from('marketing'), 0xc0, 4]);
    assert.deepEqual(parseDomainSearch(search), ['eng.example.com', 'marketing.example.com']);
  });

  it('rejects malformed messages with a format error, never a crash', () => {
    const valid = encode({
      op: 2,
      xid: 1,
      secs: 0,
      broadcast: false,
      ciaddr: '0.0.0.0',
      yiaddr: '10.0.0.5',
      siaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      chaddr: mac,
      options: new Map([[Option.MessageType, Buffer.from([MessageType.Offer])], [Option.ClasslessRoutes, Buffer.from([16, 10, 99, 10, 0, 0, 2])]]),
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(399), fc.nat(255), (junk, at, byte) => {
        for (const input of [Buffer.from(junk), Buffer.from(valid).fill(byte, at % valid.length, (at % valid.length) + 1)]) {
          try {
            const d = decode(input);
            if (d.options.has(Option.ClasslessRoutes)) parseClasslessRoutes(d.options.get(Option.ClasslessRoutes)!);
            if (d.options.has(Option.DomainSearch)) parseDomainSearch(d.options.get(Option.DomainSearch)!);
          } catch (e) {
            assert.ok(e instanceof DHCPFormatError, `unexpected ${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
