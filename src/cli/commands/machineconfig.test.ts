import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { generateBundle } from '../../config/generate/config.js';
import { runCommands } from './config-testing.js';
import { machineconfigCommand } from './machineconfig.js';

describe('bronzectl machineconfig patch', () => {
  let dir: string;
  let worker: string;
  const run = (...args: string[]) => runCommands([machineconfigCommand], args, {});
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-mc-'));
    worker = join(dir, 'worker.yaml');
    writeFileSync(worker, (await generateBundle({ clusterName: 'm', endpoint: 'https://10.5.0.2:6443' })).worker.encode());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies inline and @file patches in order and prints or writes the result', async () => {
    writeFileSync(join(dir, 'p.yaml'), 'machine:\n  env:\n    B: "2"\n');
    const r = await run('machineconfig', 'patch', worker, '-p', '{"machine":{"env":{"A":"1"}}}', '-p', `@${join(dir, 'p.yaml')}`);
    assert.equal(r.code, 0, r.stderr);
    const v1 = parseAllDocuments(r.stdout)[0]!.toJSON() as { machine: { env: Record<string, string> } };
    assert.deepEqual(v1.machine.env, { A: '1', B: '2' });
    const out = join(dir, 'out.yaml');
    const w = await run('mc', 'patch', worker, '-p', '{"machine":{"env":{"A":"1"}}}', '-o', out);
    assert.equal(w.stdout, '');
    assert.match(readFileSync(out, 'utf8'), /env:\n {8}A: "1"/);
  });

  it('names what is wrong: no patch, a missing file, a patch that does not apply', async () => {
    assert.match((await run('machineconfig', 'patch', worker)).stderr, /no patches given: use -p or --patch/);
    assert.match((await run('machineconfig', 'patch', join(dir, 'nope.yaml'), '-p', '{}')).stderr, /failed to read .*nope\.yaml: ENOENT/);
    assert.match((await run('machineconfig', 'patch', worker, '-p', '{"machine":{"nosuchkey":1}}')).stderr, /nosuchkey/);
  });
});
