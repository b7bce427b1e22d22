import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { Client } from '../../src/client/client.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { freePort } from '../helpers/ports.js';
import { killProcessesMentioning, processesEnded } from '../helpers/procs.js';
import { waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const bundle = join(root, 'dist/bin/bronze.js');
const ADDRESS = '127.77.6.2';

/**
 * machined (the `bronze machined` program, with its apid) is killed with SIGKILL, whole process group, while it
 * serves ApplyConfiguration, 100 times: at the moment the new config's temporary file appears (in the middle of the
 * write), right after the request was sent, and right after the answer came. After each kill the stored config is
 * the old one or the new one, complete, and the next start serves the next apply from it.
 */
const ROUNDS = 30;

describe('kill -9 of machined during ApplyConfiguration', () => {
  let dir: string;
  let apiPort: number;
  let base: string;

  before(async () => {
    assert.ok(existsSync(bundle), `${bundle} is missing: run make build first`);
    dir = mkdtempSync(join(tmpdir(), 'bronze-apply-crash-'));
    apiPort = await freePort(ADDRESS);
    base = (await generateBundle({ clusterName: 'crash', endpoint: `https://${ADDRESS}:6443`, discovery: false })).controlplane.toString();
  });

  after(async () => {
    // every process a node started (containerd included) names the state directory: none may outlive its machined
    // for longer than its lifeline takes to tell it
    await processesEnded(dir, 10_000);
    const left = killProcessesMentioning(dir);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'processes outlived their machined');
  });

  /** generation n of the config: a distinct hostname and a large inline manifest, so a write takes a while */
  const generation = (n: number) => {
    const doc = base.replace(/^auto: stable$/m, `hostname: gen-${n}`);
    return doc.replace(/^cluster:\n/m, `cluster:\n    inlineManifests:\n        - name: padding\n          contents: ${'x'.repeat(3_000_000)}-${n}\n`);
  };
  const generationOf = (text: string) => {
    const m = /^hostname: gen-(\d+)$/m.exec(text);
    assert.ok(m, 'the stored config has no generation hostname');
    const n = Number(m[1]);
    assert.equal(text, generation(n), `the stored config is not exactly generation ${n}`);
    const parsed = parseDocument(text.split(/^---$/m)[0]!);
    assert.deepEqual(parsed.errors, []);
    return n;
  };

  it('always leaves the old or the new config, never a partial one', { timeout: 600_000 }, async () => {
    const store = new ConfigStore(dir);
    store.write(Buffer.from(generation(0)));
    let stored = 0;
    const outcomes = { old: 0, new: 0, midWrite: 0 };
    // each round boots a node (its containerd instances included): 30 rounds give each kill moment ten times
    for (let round = 1; round <= ROUNDS; round++) {
      // each round reads only its own machined's log (it would rotate over a hundred boots); the directory stays, so the
      // watch keeps seeing it
      rmSync(join(dir, 'logs', 'machined.log'), { force: true });
      const child = spawn(process.execPath, [bundle, 'machined', '--state', dir, '--address', ADDRESS, '--api-port', String(apiPort)], { cwd: root, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone already
        }
      };
      // a round the runner cancels (a timeout) never reaches its finally: the node must not outlive the test
      process.once('exit', kill);
      const sock = join(dir, 'machined', 'machine.sock');
      let client: Client | undefined;
      try {
        // machined logs when its API listens (the socket of the killed one may still be on disk)
        const log = join(dir, 'logs', 'machined.log');
        await waitForFile(dir, log, (t) => t.includes('machined API serving'), 30_000).catch((e: Error) => {
          const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(no log)';
          throw new Error(`${e.message}; stderr: ${stderr.slice(-2000)}; log: ${tail}`);
        });
        // a channel made before the socket listened would back off; this one connects at once
        client = new Client({ endpoints: [`unix://${sock}`], tls: {} });
        const next = generation(round);
        const moment = round % 3;
        const tmp = `${store.path}-tmp`;
        // moment 0: kill as soon as machined starts writing the temporary file
        let killed: Promise<void> | undefined;
        if (moment === 0) {
          killed = new Promise<void>((resolve, reject) => {
            const w = watch(dir, (_ev, name) => {
              if (name !== 'config.yaml-tmp') return;
              kill();
              w.close();
              clearTimeout(t);
              resolve();
            });
            const t = setTimeout(() => {
              w.close();
              reject(new Error(`round ${round}: machined never wrote the temporary config`));
            }, 30_000);
          });
        }
        const call = client.machine.applyConfiguration({ data: Buffer.from(next), mode: 1 }, { timeout: 30_000 });
        if (moment === 1) kill();
        if (moment === 2) {
          await call;
          kill();
        } else {
          await call.catch(() => undefined); // the connection drops with the kill
          await killed;
        }
        await exited;
        if (moment === 0 && existsSync(tmp)) outcomes.midWrite++;
        const n = generationOf(readFileSync(store.path, 'utf8'));
        assert.ok(n === stored || n === round, `round ${round}: generation ${n} is neither the old (${stored}) nor the new (${round})`);
        if (moment === 2) assert.equal(n, round, `round ${round}: the answered apply was not stored`);
        outcomes[n === round ? 'new' : 'old']++;
        stored = n;
      } finally {
        client?.close();
        kill();
        process.off('exit', kill);
        await exited;
      }
    }
    assert.equal(outcomes.old + outcomes.new, ROUNDS);
    assert.ok(outcomes.new >= ROUNDS / 3, JSON.stringify(outcomes));
    // the kills at the temporary file landed before the rename (the old config stayed) in most rounds
    assert.ok(outcomes.midWrite > 0, JSON.stringify(outcomes));
    process.stdout.write(`# outcomes: ${JSON.stringify(outcomes)}\n`);
  });
});
