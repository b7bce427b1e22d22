import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { APID_USER, reachable, serviceUser } from './users.js';

describe('service users', () => {
  it('need search permission on every directory above a path, and the permission asked for on the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-users-'));
    try {
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'private'), { mode: 0o700 });
      writeFileSync(join(dir, 'private', 'prog.js'), '', { mode: 0o644 });
      writeFileSync(join(dir, 'secret'), '', { mode: 0o600 });
      writeFileSync(join(dir, 'prog.js'), '', { mode: 0o644 });
      assert.equal(reachable(APID_USER, join(dir, 'prog.js'), 'r'), true);
      assert.equal(reachable(APID_USER, join(dir, 'secret'), 'r'), false);
      assert.equal(reachable(APID_USER, join(dir, 'private', 'prog.js'), 'r'), false);
      chmodSync(join(dir, 'private'), 0o711);
      assert.equal(reachable(APID_USER, join(dir, 'private', 'prog.js'), 'r'), true);
      assert.equal(reachable(APID_USER, join(dir, 'missing'), 'r'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are used only by root, for programs and socket directories the user can reach', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-users-'));
    const log = pino({ level: 'silent' });
    try {
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'state', 'apid'), { recursive: true, mode: 0o700 });
      chmodSync(join(dir, 'state'), 0o700);
      writeFileSync(join(dir, 'prog.js'), '', { mode: 0o644 });
      writeFileSync(join(dir, 'hidden.js'), '', { mode: 0o600 });
      const sockets = [join(dir, 'state'), join(dir, 'state', 'apid')];
      assert.deepEqual(serviceUser('apid', APID_USER, [process.execPath, join(dir, 'prog.js'), 'apid'], sockets, log), APID_USER);
      // the socket directories were made searchable (only)
      assert.equal(reachable(APID_USER, join(dir, 'state', 'apid'), 'x'), true);
      assert.equal(serviceUser('apid', APID_USER, [process.execPath, join(dir, 'hidden.js'), 'apid'], sockets, log), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
