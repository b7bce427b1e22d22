import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CosiError, cosiErrorCodes, isConflict, isOwnerConflict, isVersionConflict } from './errors.js';

/** Every source file of the COSI area, tests left out. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'errors.ts' ? [p] : [];
  });
}

describe('COSI errors', () => {
  it('use only documented codes, and every documented code is used', () => {
    const dir = new URL('.', import.meta.url).pathname;
    const used = new Set(sources(dir).flatMap((f) => readFileSync(f, 'utf8').match(/BRONZE_COSI_[A-Z_]+/g) ?? []));
    const documented = new Set(Object.keys(cosiErrorCodes));
    assert.deepEqual([...used].filter((c) => !documented.has(c)), [], 'codes used but not in cosiErrorCodes');
    assert.deepEqual([...documented].filter((c) => !used.has(c)), [], 'codes documented but never used');
    for (const [code, { meaning, grpc }] of Object.entries(cosiErrorCodes)) assert.ok(meaning.length > 10 && grpc > 0, code);
  });

  it('classify as COSI does: owner and phase conflicts are conflicts too', () => {
    const owner = new CosiError('BRONZE_COSI_OWNER_CONFLICT', 'x');
    assert.ok(isConflict(owner) && isOwnerConflict(owner) && !isVersionConflict(owner));
    assert.ok(!isConflict(new CosiError('BRONZE_COSI_NOT_FOUND', 'x')));
    assert.ok(!isConflict(new Error('x')));
    // instanceof holds for errors of another copy of the module (same brand)
    const foreign = Object.assign(Object.create(Error.prototype) as Error, { [Symbol.for('bronze.cosi.error')]: true, code: 'BRONZE_COSI_NOT_FOUND' });
    assert.ok(foreign instanceof CosiError);
  });
});
