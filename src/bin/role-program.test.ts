import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleProgram } from './role-program.js';

describe('roleProgram', () => {
  it('loads the roles it has, and names them when asked for another', async () => {
    const loaded: string[] = [];
    const p = roleProgram({
      one: async () => (loaded.push('one'), { run: async () => 0 }),
      two: async () => (loaded.push('two'), { run: async () => 0 }),
    });
    await p.loadRole('two');
    assert.deepEqual(loaded, ['two']);
    await assert.rejects(p.loadRole('three'), { message: 'unknown role "three" (this program runs one|two)' });
    await assert.rejects(p.loadRole('hasOwnProperty'), /unknown role "hasOwnProperty"/);
  });

  it('exits with status 2 and its roles in the usage line for an unknown role, before running anything', async () => {
    let ran = false;
    const p = roleProgram({ one: async () => ((ran = true), { run: async () => 0 }) });
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (written.push(s), true)) as typeof process.stderr.write;
    try {
      assert.equal(await p.main(['machined', '--state', '/x'], '/usr/lib/bronze/dist/bronze.js'), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(ran, false);
    assert.deepEqual(written, ['usage: bronze one [flags] (unknown role "machined")\n']);
  });
});

describe("the image's apid and trustd programs", () => {
  it('each run its own role alone', async () => {
    for (const [file, role] of [['./roles-apid.js', 'apid'], ['./roles-trustd.js', 'trustd']] as const) {
      const p = (await import(file)) as { loadRole(n: string): Promise<void> };
      for (const other of ['machined', 'apid', 'trustd', 'discovery'].filter((r) => r !== role)) {
        await assert.rejects(p.loadRole(other), new RegExp(`this program runs ${role}\\)$`));
      }
    }
  });
});
