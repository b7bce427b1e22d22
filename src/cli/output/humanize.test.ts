import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnize, goFileMode, humanBytes, lsTime } from './humanize.js';

describe('talosctl formatting helpers', () => {
  it('print bytes as go-humanize', () => {
    assert.equal(humanBytes(5), '5 B');
    assert.equal(humanBytes(1024), '1.0 kB');
    assert.equal(humanBytes(82854982), '83 MB');
    assert.equal(humanBytes(1_500_000_000n), '1.5 GB');
  });

  it('print file modes as Go', () => {
    assert.equal(goFileMode(0o644), '-rw-r--r--');
    assert.equal(goFileMode(2 ** 31 + 0o755), 'drwxr-xr-x');
    assert.equal(goFileMode(2 ** 27 + 0o777), 'Lrwxrwxrwx');
    assert.equal(goFileMode(2 ** 26 + 2 ** 21 + 0o620), 'Dcrw--w----');
  });

  it('print times as ls in talosctl', () => {
    const now = new Date(2026, 10, 22, 12, 0, 0);
    assert.equal(lsTime(new Date(2026, 10, 2, 9, 5, 7), now), 'Nov  2 09:05:07');
    assert.equal(lsTime(new Date(2025, 0, 15, 9, 5, 7), now), 'Jan 15 2025 09:05');
  });

  it('lay out columns as columnize', () => {
    assert.equal(columnize([['NODE', 'PID'], ['  10.5.0.2', '    1 ']]), 'NODE      PID\n10.5.0.2  1\n');
  });
});
