import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigStore } from '../../src/machined/config-store.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * A writer process stores configs in a loop (each a large, self-checking document); it is killed with SIGKILL after a
 * varying number of writes, in the middle of the next one, 100 times. The stored config must always be one complete document the writer wrote.
 */
describe('config persistence under kill -9', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-store-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('always leaves the old or the new config, never a partial file', { timeout: 240_000 }, async () => {
    const store = new ConfigStore(dir);
    const doc = (n: number) => `version: v1alpha1\n# generation ${n}\n${'machine:\n  padding: '.concat('x'.repeat(200_000))}\nend: ${n}\n`;
    writeFileSync(join(dir, 'writer.ts'), `
      import { ConfigStore } from ${JSON.stringify(join(root, 'src/machined/config-store.ts'))};
      const store = new ConfigStore(${JSON.stringify(dir)});
      const doc = ${doc.toString()};
      let n = Number(process.argv[2]);
      for (;;) {
        store.write(Buffer.from(doc(++n)));
        process.stdout.write(n + '\\n');
      }
    `);
    store.write(Buffer.from(doc(0)));
    let generation = 0;
    let advanced = 0;
    for (let round = 0; round < 100; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'writer.ts'), String(generation * 1000)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      // let the writer store a few configs (a number that varies with the round), then kill it mid-loop
      const wanted = 1 + (round % 5);
      await new Promise<void>((resolve, reject) => {
        let seen = 0;
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString().split('\n').filter(Boolean).length;
          if (seen >= wanted) resolve();
        });
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const text = readFileSync(store.path, 'utf8');
      const m = /^version: v1alpha1\n# generation (\d+)\n/.exec(text);
      assert.ok(m, `round ${round}: stored config does not start as a written document`);
      assert.equal(text, doc(Number(m[1])), `round ${round}: stored config is not exactly generation ${m[1]}`);
      if (Number(m[1]) > generation * 1000) advanced++;
      generation++;
    }
    // every kill landed after the writer had stored new configs, while it was writing the next
    assert.ok(advanced === 100, `only ${advanced} of 100 rounds stored a new config before the kill`);
  });
});
