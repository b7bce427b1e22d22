import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { LogBuffer, LogManager, createLogDestination, renderPinoLine, talosTimestamp } from './index.js';

async function readAll(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString();
}

describe('log buffer', () => {
  test('keeps only the last `capacity` bytes', async () => {
    const log = new LogBuffer('svc', { capacity: 1000 });
    for (let i = 0; i < 300; i++) log.write(`line ${String(i).padStart(4, '0')}\n`); // 10 bytes each
    assert.deepEqual(log.range, { start: 2000, end: 3000 });
    const all = await readAll(log.read());
    assert.equal(all.length, 1000);
    assert.ok(all.startsWith('line 0200\n'));
    assert.ok(all.endsWith('line 0299\n'));
  });

  test('tail lines', async () => {
    const log = new LogBuffer('svc');
    log.write('a\nb\nc\n');
    assert.equal(await readAll(log.read({ tailLines: 2 })), 'b\nc\n');
    assert.equal(await readAll(log.read({ tailLines: 0 })), '');
    assert.equal(await readAll(log.read({ tailLines: 10 })), 'a\nb\nc\n');
    assert.equal(await readAll(log.read({ tailLines: -1 })), 'a\nb\nc\n');
    log.write('partial');
    assert.equal(await readAll(log.read({ tailLines: 1 })), 'partial');
    assert.equal(await readAll(log.read({ tailLines: 2 })), 'c\npartial');
  });

  test('chunks are bounded and end at line breaks when a break fits', async () => {
    const log = new LogBuffer('svc');
    const lines = Array.from({ length: 50 }, (_, i) => `${'x'.repeat(i * 7)}\n`).join('');
    log.write(lines);
    log.write('y'.repeat(3000));
    const chunks: Buffer[] = [];
    for await (const c of log.read({ chunkSize: 256 })) chunks.push(c);
    assert.equal(Buffer.concat(chunks).toString(), lines + 'y'.repeat(3000));
    for (const c of chunks) assert.ok(c.length <= 256);
    const inLines = chunks.filter((c) => c.includes(0x0a));
    for (const c of inLines.slice(0, -1)) assert.equal(c[c.length - 1], 0x0a);
  });

  test('follow streams new writes until aborted', async () => {
    const log = new LogBuffer('svc');
    log.write('old 1\nold 2\n');
    const ac = new AbortController();
    const it = log.read({ follow: true, tailLines: 1, signal: ac.signal });
    assert.equal((await it.next()).value?.toString(), 'old 2\n');
    const pending = it.next();
    log.write('new\n');
    assert.equal((await pending).value?.toString(), 'new\n');
    const waiting = it.next();
    ac.abort();
    assert.equal((await waiting).done, true);
  });

  test('a follower overtaken by the writer resumes at the oldest byte kept; close ends followers', async () => {
    const log = new LogBuffer('svc', { capacity: 100 });
    log.write('0123456789\n');
    const it = log.read({ follow: true, chunkSize: 4 });
    assert.equal((await it.next()).value?.toString(), '0123');
    for (let i = 0; i < 20; i++) log.write(`${'z'.repeat(9)}${i % 10}\n`);
    const next = (await it.next()).value!.toString();
    assert.equal(next, 'zzzz');
    assert.equal(log.range.start, 231 - 100);
    const pending = (async () => {
      let s = '';
      for (let r = await it.next(); !r.done; r = await it.next()) s += r.value.toString();
      return s;
    })();
    await log.close();
    const rest = await pending;
    assert.ok(rest.endsWith('zzzzzzzzz9\n'));
    assert.throws(() => log.write('x'), { code: 'BRONZE_LOGS_CLOSED' });
  });

  test('file mirror with rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-logs-'));
    try {
      const manager = new LogManager({ directory: dir, maxFileSize: 100, capacity: 4096 });
      const log = manager.serviceLog('etcd');
      for (let i = 0; i < 15; i++) log.write(`line ${String(i).padStart(3, '0')}\n`); // 9 bytes each
      await manager.close();
      const current = readFileSync(join(dir, 'etcd.log'), 'utf8');
      const rotated = readFileSync(join(dir, 'etcd.log.1'), 'utf8');
      assert.equal(rotated + current, Array.from({ length: 15 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`).join(''));
      assert.ok(Buffer.byteLength(rotated) <= 100);
      assert.ok(existsSync(join(dir, 'etcd.log')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log manager', () => {
  test('registration, lookup and ids', () => {
    const m = new LogManager();
    m.serviceLog('kubelet');
    m.serviceLog('apid');
    assert.equal(m.serviceLog('apid'), m.get('apid'));
    assert.deepEqual(m.registered(), ['apid', 'kubelet']);
    assert.throws(() => m.get('etcd'), { code: 'BRONZE_LOGS_NOT_REGISTERED', message: 'log "etcd" was not registered' });
    assert.throws(() => m.serviceLog('../x'), { code: 'BRONZE_LOGS_INVALID_ID' });
  });
});

describe('pino destination', () => {
  test("machined's own log lands in its buffer as Talos-style lines", async () => {
    const m = new LogManager();
    const log = m.serviceLog('machined');
    const logger = pino({ base: undefined }, createLogDestination(log));
    logger.info({ controller: 'network.AddressSpec' }, 'controller started');
    logger.warn('disk is slow');
    const text = await readAll(log.read());
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} \[talos\] controller started \{"controller":"network.AddressSpec"\}$/);
    assert.match(lines[1], /\[talos\] disk is slow \{"level":"warn"\}$/);
  });

  test('json format and rendering details', async () => {
    const log = new LogBuffer('machined');
    const dest = createLogDestination(log, { format: 'json' });
    dest.write('{"level":30,"msg":"x"}\n');
    assert.equal(await readAll(log.read()), '{"level":30,"msg":"x"}\n');
    assert.equal(talosTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024/01/02 03:04:05.678000');
    assert.equal(renderPinoLine('not json'), 'not json\n');
  });
});
