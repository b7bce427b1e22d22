import assert from 'node:assert/strict';
import { constants as fsConstants, readdirSync, readlinkSync } from 'node:fs';
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SysError } from './errors.js';
import {
  facilityName,
  formatKmsgRecord,
  formatKmsgRecordBytes,
  formatRFC3339Nano,
  KMSG_PRIORITIES,
  parseKmsgRecord,
  readBootTime,
  readKmsg,
  unescapeKmsg,
} from './kmsg.js';

const BOOT = new Date('2024-01-02T03:04:05.000Z');

const PCI = '7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n';
const NET = '6,339,5140900,-;NET: Registered protocol family 10\n';

describe('parseKmsgRecord', () => {
  test('fields of a plain record', () => {
    const r = parseKmsgRecord(NET, BOOT);
    assert.equal(r.facility, 0);
    assert.equal(r.priority, 6);
    assert.equal(r.seq, 339);
    assert.equal(r.usec, 5140900);
    assert.equal(r.flags, '-');
    assert.equal(r.caller, undefined);
    assert.equal(r.message, 'NET: Registered protocol family 10');
    assert.deepEqual(r.dict, []);
    assert.equal(r.body, 'NET: Registered protocol family 10\n');
    assert.equal(r.timeNs, 1704164645000000000n + 5140900000n);
  });

  test('continuation lines are split off the message', () => {
    const r = parseKmsgRecord(PCI, BOOT);
    assert.equal(r.priority, 7);
    assert.equal(r.message, 'pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)');
    assert.deepEqual(r.dict, ['SUBSYSTEM=acpi', 'DEVICE=+acpi:PNP0A03:00']);
  });

  test('escapes are decoded in message and dict, the body keeps them', () => {
    const raw = '6,339,5140900,-;family \\x5c10\\x5c in \\xc2\\xB5s\\x0anext\n DEVICE=a\\x20b\n';
    const r = parseKmsgRecord(raw, BOOT);
    assert.equal(r.message, 'family \\10\\ in µs\nnext');
    assert.deepEqual(r.dict, ['DEVICE=a b']);
    assert.equal(r.body, 'family \\x5c10\\x5c in \\xc2\\xB5s\\x0anext\n DEVICE=a\\x20b\n');
  });

  test('caller field, three-field prefix, unknown extra fields', () => {
    const r = parseKmsgRecord('6,378,5140900,-,caller=T148;ata1: SATA max UDMA/133\n', BOOT);
    assert.equal(r.caller, 'T148');
    assert.equal(parseKmsgRecord('0,380,1,-,caller=C10;x', BOOT).caller, 'C10');
    const short = parseKmsgRecord('3,1,2;no flags', BOOT);
    assert.equal(short.flags, '');
    assert.equal(short.message, 'no flags');
    assert.equal(parseKmsgRecord('3,1,2,-,future=1,caller=T7;x', BOOT).caller, 'T7');
  });

  test('facility and priority from the prefix', () => {
    const r = parseKmsgRecord('30,1,0,-;systemd[1]: started\n', BOOT);
    assert.equal(r.facility, 3);
    assert.equal(r.priority, 6);
  });

  test('malformed records', () => {
    for (const bad of ['no prefix here', '6,1;x', 'x,1,2,-;x', '6,-1,2,-;x', '6,1,2.5,-;x', '6,1,2,-,caller=X1;x', '']) {
      assert.throws(
        () => parseKmsgRecord(bad, BOOT),
        (e: unknown) => e instanceof SysError && e.code === 'BRONZE_SYS_PARSE',
        bad,
      );
    }
  });
});

describe('formatKmsgRecord', () => {
  test('Talos Dmesg line of a plain record', () => {
    assert.equal(formatKmsgRecord(parseKmsgRecord(NET, BOOT)), 'kern:    info: [2024-01-02T03:04:10.1409Z]: NET: Registered protocol family 10\n');
  });

  test('continuation lines are kept as Talos sends them, or dropped on request', () => {
    const r = parseKmsgRecord(PCI, BOOT);
    assert.equal(
      formatKmsgRecord(r),
      'kern:   debug: [2024-01-02T03:04:05.424069Z]: pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n',
    );
    assert.equal(
      formatKmsgRecord(r, { dict: false }),
      'kern:   debug: [2024-01-02T03:04:05.424069Z]: pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n',
    );
  });

  test('a record without its newline gets none (as in Talos)', () => {
    assert.equal(formatKmsgRecord(parseKmsgRecord('3,9,1000000,-;disk failed', BOOT)), 'kern:     err: [2024-01-02T03:04:06Z]: disk failed');
  });

  test('escapes decoded, including bytes that are not UTF-8', () => {
    const r = parseKmsgRecord('4,1,1,-;a\\x0ab \\xc2\\xb5 \\xff\n', BOOT);
    assert.equal(formatKmsgRecord(r), 'kern: warning: [2024-01-02T03:04:05.000001Z]: a\nb µ \ufffd\n');
    const bytes = formatKmsgRecordBytes(r);
    assert.equal(bytes.at(-2), 0xff);
  });

  test('every priority name is padded to 7', () => {
    const got = KMSG_PRIORITIES.map((_, p) => formatKmsgRecord(parseKmsgRecord(`${8 + p},1,0,-;m\n`, BOOT)));
    assert.deepEqual(got, [
      'user:   emerg: [2024-01-02T03:04:05Z]: m\n',
      'user:   alert: [2024-01-02T03:04:05Z]: m\n',
      'user:    crit: [2024-01-02T03:04:05Z]: m\n',
      'user:     err: [2024-01-02T03:04:05Z]: m\n',
      'user: warning: [2024-01-02T03:04:05Z]: m\n',
      'user:  notice: [2024-01-02T03:04:05Z]: m\n',
      'user:    info: [2024-01-02T03:04:05Z]: m\n',
      'user:   debug: [2024-01-02T03:04:05Z]: m\n',
    ]);
  });

  test("facility names follow go-kmsg's table, including its numbering of local0..7 and Go's panic text past it", () => {
    assert.equal(facilityName(3), 'daemon');
    assert.equal(facilityName(10), 'authpriv');
    assert.equal(facilityName(11), 'local0');
    assert.equal(facilityName(16), 'local5');
    assert.equal(facilityName(18), 'local7');
    assert.equal(
      formatKmsgRecord(parseKmsgRecord('158,1,0,-;m\n', BOOT)),
      '%!s(PANIC=String method: runtime error: index out of range [19] with length 19):    info: [2024-01-02T03:04:05Z]: m\n',
    );
  });
});

describe('formatRFC3339Nano', () => {
  test("Go's RFC3339Nano", () => {
    assert.equal(formatRFC3339Nano(0n), '1970-01-01T00:00:00Z');
    assert.equal(formatRFC3339Nano(1n), '1970-01-01T00:00:00.000000001Z');
    assert.equal(formatRFC3339Nano(1_500_000_000n), '1970-01-01T00:00:01.5Z');
    assert.equal(formatRFC3339Nano(1_704_164_645_123_456_789n), '2024-01-02T03:04:05.123456789Z');
    assert.equal(formatRFC3339Nano(1_704_164_645_120_000_000n), '2024-01-02T03:04:05.12Z');
    assert.equal(formatRFC3339Nano(-1n), '1969-12-31T23:59:59.999999999Z');
    assert.equal(formatRFC3339Nano(0n, 150), '1970-01-01T02:30:00+02:30');
    assert.equal(formatRFC3339Nano(0n, -300), '1969-12-31T19:00:00-05:00');
  });

  test('agrees with Date for millisecond times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        const want = new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
        assert.equal(formatRFC3339Nano(BigInt(ms) * 1_000_000n), want);
      }),
    );
  });
});

/** The kernel's escaping of a record's text (non-printable bytes and backslash as \xHH). */
function kernelEscape(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b < 0x20 || b >= 0x7f || b === 0x5c ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
  return s;
}

describe('properties', () => {
  const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
  const dictLine = fc.tuple(fc.stringMatching(/^[A-Z]{1,10}$/), printable).map(([k, v]) => `${k}=${v}`);

  test('a record with valid fields parses back its fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          prio: fc.integer({ min: 0, max: 2047 }),
          seq: fc.integer({ min: 0, max: 2 ** 50 }),
          usec: fc.integer({ min: 0, max: 2 ** 50 }),
          flags: fc.constantFrom('-', 'c'),
          caller: fc.option(fc.tuple(fc.constantFrom('T', 'C'), fc.nat()).map(([t, n]) => `${t}${n}`), { nil: undefined }),
          message: fc.uint8Array({ maxLength: 80 }),
          dict: fc.array(dictLine, { maxLength: 3 }),
        }),
        fc.integer({ min: 0, max: 4102444800000 }),
        (f, bootMs) => {
          const prefix = [f.prio, f.seq, f.usec, f.flags, ...(f.caller === undefined ? [] : [`caller=${f.caller}`])].join(',');
          const body = `${kernelEscape(f.message)}\n${f.dict.map((l) => ` ${kernelEscape(Buffer.from(l))}\n`).join('')}`;
          const r = parseKmsgRecord(`${prefix};${body}`, new Date(bootMs));
          assert.equal(r.facility, f.prio >> 3);
          assert.equal(r.priority, f.prio & 7);
          assert.equal(r.seq, f.seq);
          assert.equal(r.usec, f.usec);
          assert.equal(r.flags, f.flags);
          assert.equal(r.caller, f.caller);
          assert.equal(r.message, Buffer.from(f.message).toString('utf8'));
          assert.deepEqual(r.dict, f.dict);
          assert.equal(r.body, body);
          assert.equal(r.timeNs, BigInt(bootMs) * 1_000_000n + BigInt(f.usec) * 1000n);
          const line = formatKmsgRecordBytes(r);
          assert.ok(line.subarray(-1).equals(Buffer.from('\n')));
        },
      ),
    );
  });

  test('unescaping undoes the kernel escaping for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.deepEqual(unescapeKmsg(Buffer.from(kernelEscape(bytes), 'latin1')), Buffer.from(bytes));
      }),
    );
  });

  test("broken escapes are dropped as go-kmsg drops them", () => {
    assert.equal(unescapeKmsg(Buffer.from('a\\qb')).toString(), 'ab');
    assert.equal(unescapeKmsg(Buffer.from('a\\xzb')).toString(), 'ab');
    assert.equal(unescapeKmsg(Buffer.from('a\\x4zb')).toString(), 'ab');
    assert.equal(unescapeKmsg(Buffer.from('a\\x4')).toString(), 'a');
    assert.equal(unescapeKmsg(Buffer.from('a\\')).toString(), 'a');
    assert.equal(unescapeKmsg(Buffer.from('\\\\\\x41')).toString(), '\\A');
  });
});

async function collect(it: AsyncIterable<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of it) out.push(chunk.toString('utf8'));
  return out;
}

function openFds(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

describe('readKmsg on a file of records', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bronze-kmsg-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const LINES = [
    'kern:   debug: [2024-01-02T03:04:05.424069Z]: pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n',
    'kern:    info: [2024-01-02T03:04:10.1409Z]: NET: Registered protocol family 10\n',
    'daemon:  notice: [2024-01-02T03:04:15Z]: a\nb\n',
  ];

  test('without follow: every record, then the end', async () => {
    const path = join(dir, 'all');
    await writeFile(path, PCI + NET + '29,400,10000000,-;a\\x0ab\n');
    const got = await collect(readKmsg({ follow: false, tail: false, signal: new AbortController().signal, path, bootTime: BOOT }));
    assert.deepEqual(got, LINES);
    assert.equal(openFds(path), 0);
  });

  test('without follow, dict dropped on request', async () => {
    const path = join(dir, 'nodict');
    await writeFile(path, PCI);
    const got = await collect(readKmsg({ follow: false, tail: false, dict: false, signal: new AbortController().signal, path, bootTime: BOOT }));
    assert.deepEqual(got, ['kern:   debug: [2024-01-02T03:04:05.424069Z]: pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n']);
  });

  test('records larger than one read and cut across reads', async () => {
    const path = join(dir, 'many');
    const records: string[] = [];
    for (let i = 0; i < 600; i++) records.push(`6,${i},${i * 1000},-;message number ${i} ${'x'.repeat(i % 50)}\n SUBSYSTEM=s${i}\n`);
    await writeFile(path, records.join(''));
    const got = await collect(readKmsg({ follow: false, tail: false, signal: new AbortController().signal, path, bootTime: BOOT }));
    assert.equal(got.length, 600);
    got.forEach((line, i) => assert.ok(line.endsWith(`: message number ${i} ${'x'.repeat(i % 50)}\n SUBSYSTEM=s${i}\n`), line));
  });

  test('tail without follow: nothing', async () => {
    const path = join(dir, 'tail');
    await writeFile(path, PCI + NET);
    assert.deepEqual(await collect(readKmsg({ follow: false, tail: true, signal: new AbortController().signal, path, bootTime: BOOT })), []);
  });

  test('tail with follow: only records written after the start; abort ends the stream and closes the file', async () => {
    const path = join(dir, 'follow');
    await writeFile(path, PCI + NET);
    const ac = new AbortController();
    let ready!: () => void;
    const positioned = new Promise<void>((resolve) => (ready = resolve));
    const it = readKmsg({ follow: true, tail: true, signal: ac.signal, path, bootTime: BOOT, pollIntervalMs: 2, onReady: ready })[Symbol.asyncIterator]();
    const first = it.next();
    await positioned;
    await appendFile(path, '29,400,10000000,-;a\\x0ab\n');
    assert.deepEqual(await first, { done: false, value: Buffer.from(LINES[2]!) });
    const second = it.next();
    await appendFile(path, NET);
    assert.equal((await second).value?.toString(), LINES[1]);
    assert.equal(openFds(path), 1);
    const third = it.next();
    ac.abort();
    assert.deepEqual(await third, { done: true, value: undefined });
    assert.equal(openFds(path), 0);
  });

  test('malformed records are reported and skipped', async () => {
    const path = join(dir, 'bad');
    await writeFile(path, `garbage without prefix\n${NET}`);
    const bad: string[] = [];
    const got = await collect(
      readKmsg({ follow: false, tail: false, signal: new AbortController().signal, path, bootTime: BOOT, onMalformed: (e, raw) => bad.push(`${e.code} ${raw.toString()}`) }),
    );
    assert.deepEqual(got, [LINES[1]]);
    assert.deepEqual(bad, ['BRONZE_SYS_PARSE garbage without prefix\n']);
  });

  test('an aborted signal yields nothing', async () => {
    const path = join(dir, 'aborted');
    await writeFile(path, NET);
    assert.deepEqual(await collect(readKmsg({ follow: true, tail: false, signal: AbortSignal.abort(), path, bootTime: BOOT })), []);
  });
});

test('readBootTime: now minus uptime', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bronze-uptime-'));
  try {
    await writeFile(join(dir, 'uptime'), '100.50 2000.00\n');
    const before = Date.now();
    const boot = (await readBootTime(dir)).getTime();
    assert.ok(boot >= before - 100500 && boot <= Date.now() - 100500);
    await writeFile(join(dir, 'uptime'), 'nonsense\n');
    await assert.rejects(readBootTime(dir), (e: unknown) => e instanceof SysError && e.code === 'BRONZE_SYS_PARSE');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function kmsgReadable(): Promise<string | undefined> {
  try {
    const fh = await open('/dev/kmsg', fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    await fh.close();
    return undefined;
  } catch (e) {
    return `/dev/kmsg is not readable here (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

const LINE = /^(kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|local[0-7]): +(emerg|alert|crit|err|warning|notice|info|debug): \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z\]: /;

describe('readKmsg on the real /dev/kmsg', () => {
  test('reads the records there and ends', async (t) => {
    const reason = await kmsgReadable();
    if (reason) return t.skip(reason);
    const got = await collect(readKmsg({ follow: false, tail: false, signal: new AbortController().signal }));
    assert.ok(got.length > 0, 'at least one record');
    for (const line of got) {
      assert.match(line, LINE);
      assert.ok(line.endsWith('\n'), line);
    }
  });

  test('follow: reads, waits at the end, stops when aborted and closes the device', async (t) => {
    const reason = await kmsgReadable();
    if (reason) return t.skip(reason);
    const ac = new AbortController();
    const it = readKmsg({ follow: true, tail: false, signal: ac.signal, pollIntervalMs: 5 })[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    assert.match(first.value!.toString(), LINE);
    // drain to the end of the buffer (the stream then waits for new records), then abort the waiting read
    const pending = (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
      }
    })();
    // abort once the reader has had time to reach the end and wait there (a few hundred records take ~25 ms)
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    await pending;
    assert.ok(Date.now() - started < 2000);
    assert.equal(openFds('/dev/kmsg'), 0);
  });
});
