import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LinkInfo, parseLinkMessage, SharedLinkDump } from './rtnl.js';

/** An rtattr: length, type, value, padded to 4 bytes. */
function attr(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(4 + value.length, 0);
  head.writeUInt16LE(type, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const str = (s: string) => Buffer.from(`${s}\0`);

/** An ifinfomsg (type, index, flags) and its attributes. */
function linkMessage(type: number, index: number, flags: number, ...attrs: Buffer[]): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt16LE(type, 2);
  head.writeInt32LE(index, 4);
  head.writeUInt32LE(flags, 8);
  return Buffer.concat([head, ...attrs]);
}

describe('parseLinkMessage', () => {
  it('reads the link from its header and the attributes it needs, skipping the rest', () => {
    // IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP, and a bit past IFF_ECHO
    const flags = 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000 | 0x100000;
    const msg = linkMessage(
      1,
      7,
      flags,
      attr(3, str('eth0')),
      attr(4, u32(1500)),
      attr(1, Buffer.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])),
      attr(2, Buffer.alloc(6, 0xff)),
      attr(23, Buffer.alloc(200, 0xaa)), // IFLA_STATS64: not read
      attr(16, Buffer.from([6])),
      attr(33, Buffer.from([1])),
      attr(6, str('pfifo_fast')),
      attr(5, u32(9)),
      attr(10, u32(3)),
      attr(18 | 0x8000, attr(1, str('veth'))), // IFLA_LINKINFO, nested, with IFLA_INFO_KIND
    );
    assert.deepEqual(parseLinkMessage(msg), {
      index: 7,
      name: 'eth0',
      up: true,
      lowerUp: true,
      mtu: 1500,
      hardwareAddr: '52:54:00:12:34:56',
      type: 'ether',
      kind: 'veth',
      operState: 'up',
      flags: 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000,
      carrier: true,
      broadcastAddr: 'ff:ff:ff:ff:ff:ff',
      queueDisc: 'pfifo_fast',
      linkIndex: 9,
      masterIndex: 3,
    });
  });

  it('gives the defaults for what the kernel left out, and a type it has no name for as its number', () => {
    assert.deepEqual(parseLinkMessage(linkMessage(772, 1, 0x9, attr(3, str('lo')))), {
      index: 1,
      name: 'lo',
      up: true,
      lowerUp: false,
      mtu: 0,
      hardwareAddr: '',
      type: 'loopback',
      kind: undefined,
      operState: 'unknown',
      flags: 0x9,
      carrier: false,
      broadcastAddr: '',
      queueDisc: '',
      linkIndex: 0,
      masterIndex: 0,
    });
    assert.equal(parseLinkMessage(linkMessage(0xfff0, 2, 0)).type, String(0xfff0));
  });

  it('refuses a message shorter than its header or an attribute that runs past the end', () => {
    assert.throws(() => parseLinkMessage(Buffer.alloc(12)), { code: 'BRONZE_NETLINK_BAD_MESSAGE', message: /12 bytes, shorter than its header/ });
    const cut = linkMessage(1, 4, 0, attr(3, str('eth1'))).subarray(0, 16 + 6);
    assert.throws(() => parseLinkMessage(cut), { code: 'BRONZE_NETLINK_BAD_MESSAGE', message: 'link 4: attribute at byte 16 has length 9' });
    const zero = Buffer.concat([linkMessage(1, 4, 0), Buffer.alloc(4)]);
    assert.throws(() => parseLinkMessage(zero), { code: 'BRONZE_NETLINK_BAD_MESSAGE', message: 'link 4: attribute at byte 16 has length 0' });
  });
});

describe('SharedLinkDump', () => {
  /** A dump the test finishes by hand; `log` tells when each one started and what each caller got. */
  function harness() {
    const log: string[] = [];
    const pending: { n: number; finish: (fail?: boolean) => void }[] = [];
    let n = 0;
    const shared = new SharedLinkDump(
      () =>
        new Promise<LinkInfo[]>((resolve, reject) => {
          const id = ++n;
          log.push(`start ${id}`);
          pending.push({ n: id, finish: (fail) => (fail ? reject(new Error(`dump ${id} failed`)) : resolve([{ index: id } as LinkInfo])) });
        }),
    );
    const call = (who: string) =>
      shared.list().then(
        (ls) => log.push(`${who} got ${ls[0]!.index}`),
        (e: Error) => log.push(`${who}: ${e.message}`),
      );
    const finish = async (id: number, fail = false) => {
      pending.find((p) => p.n === id)!.finish(fail);
      // let the callers and the next dump's start run
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    return { log, call, finish };
  }

  it('starts a dump at once when none is under way, and gives callers during one the next, started after it', async () => {
    const { log, call, finish } = harness();
    const a = call('a');
    const b = call('b');
    const c = call('c');
    assert.deepEqual(log, ['start 1']);
    await finish(1);
    const d = call('d');
    await finish(2);
    await finish(3);
    await Promise.all([a, b, c, d]);
    // d asked while dump 2 was under way: dump 3 starts as soon as dump 2 is over
    assert.deepEqual(log, ['start 1', 'a got 1', 'start 2', 'start 3', 'b got 2', 'c got 2', 'd got 3']);
  });

  it('gives a failure to the callers of that dump only, and starts the next one all the same', async () => {
    const { log, call, finish } = harness();
    const a = call('a');
    const b = call('b');
    await finish(1, true);
    await finish(2);
    await Promise.all([a, b]);
    assert.deepEqual(log, ['start 1', 'a: dump 1 failed', 'start 2', 'b got 2']);
    const c = call('c');
    await finish(3);
    await c;
    assert.deepEqual(log.slice(4), ['start 3', 'c got 3']);
  });
});
