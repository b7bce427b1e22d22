import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readLogFile, tailOffset } from './file-follow.js';

describe('log files', () => {
  it('the last n lines start where tailOffset says, with or without a final newline, across blocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-tail-'));
    const file = join(dir, 'log');
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ' '), maxLength: 30000 }), { maxLength: 12 }), fc.boolean(), fc.nat(15), async (lines, finalNewline, n) => {
          const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
          writeFileSync(file, text);
          const fh = await open(file, 'r');
          try {
            const off = await tailOffset(fh, Buffer.byteLength(text), n);
            // a text ending in a newline has that newline close its last line
            const ended = text.endsWith('\n');
            const all = text === '' ? [] : (ended ? text.slice(0, -1) : text).split('\n');
            const want = n === 0 ? '' : all.slice(-n).join('\n') + (ended ? '\n' : '');
            assert.equal(text.slice(off), want);
          } finally {
            await fh.close();
          }
        }),
        { numRuns: 150 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are read from their tail, then followed as they grow and when they are truncated', { timeout: 10_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-follow-'));
    const file = join(dir, '0.log');
    const ac = new AbortController();
    try {
      writeFileSync(file, 'one\ntwo\nthree\n');
      const whole: string[] = [];
      for await (const c of readLogFile(file)) whole.push(c.toString());
      assert.equal(whole.join(''), 'one\ntwo\nthree\n');
      const it = readLogFile(file, { tailLines: 2, follow: true, signal: ac.signal })[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.toString(), 'two\nthree\n');
      const next = it.next();
      appendFileSync(file, 'four\n');
      assert.equal((await next).value?.toString(), 'four\n');
      // rotated in place: read again from the start
      const after = it.next();
      truncateSync(file, 0);
      appendFileSync(file, 'five\n');
      let got = (await after).value?.toString() ?? '';
      while (!got.endsWith('five\n')) got += (await it.next()).value?.toString() ?? '';
      assert.equal(got, 'five\n');
      const last = it.next();
      ac.abort();
      assert.equal((await last).done, true);
    } finally {
      ac.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
