import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitForFile } from './wait-file.js';

test('waitForFile resolves at once for a file that exists', { timeout: 5000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wait-file-'));
  try {
    writeFileSync(join(dir, 'ready'), '');
    assert.equal(await waitForFile(join(dir, 'ready'), 10_000), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('waitForFile resolves when the file is created later', { timeout: 5000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wait-file-'));
  try {
    const waiting = waitForFile(join(dir, 'ready'), 10_000);
    writeFileSync(join(dir, 'other'), '');
    writeFileSync(join(dir, 'ready'), '');
    assert.equal(await waiting, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('waitForFile gives up at its deadline, also when the directory is missing', { timeout: 5000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wait-file-'));
  try {
    assert.equal(await waitForFile(join(dir, 'never'), 50), false);
    assert.equal(await waitForFile(join(dir, 'missing-dir', 'never'), 50), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
