import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateBundle } from '../../config/generate/config.js';
import { runCommands } from './config-testing.js';
import { validateCommand } from './validate.js';

let dir: string;
const run = (args: string[]) => runCommands([validateCommand], args, {});
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('bronzectl validate', () => {
  let cp: string;
  let worker: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-validate-'));
    const b = await generateBundle({ clusterName: 'v', endpoint: 'https://10.5.0.2:6443', installDisk: '/dev/sda' });
    cp = file('cp.yaml', b.controlplane.encode({ docs: true, examples: true }));
    worker = b.worker.encode();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a valid config for each mode', async () => {
    for (const mode of ['metal', 'cloud', 'container']) assert.deepEqual(await run(['validate', '--config', cp, '--mode', mode]), { code: 0, stdout: `${cp} is valid for ${mode} mode\n`, stderr: '' });
  });

  it('lists every error with document and path, and exits 1', async () => {
    const f = file('bad.yaml', worker.replace('type: worker', 'type: wroker').replace('persist: true', 'persist: false'));
    const r = await run(['validate', '-c', f, '-m', 'cloud']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'error: 2 errors occurred:\n\t* v1alpha1: .machine.type: unknown machine type "wroker"\n\t* v1alpha1: .persist: .persist should be enabled\n');
  });

  it('reports decoding errors with their path and line', async () => {
    const f = file('unknown.yaml', worker.replace('    type: worker\n', '    type: worker\n    tipe: worker\n'));
    const r = await run(['validate', '-c', f, '-m', 'metal']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: ${f}: error decoding document /v1alpha1/ (line 1): unknown keys found during decoding: .machine.tipe (line 6)\n`);
  });

  it('prints warnings, and fails on them with --strict', async () => {
    const f = file('join.yaml', worker.replace('type: worker', 'type: join'));
    assert.deepEqual(await run(['validate', '-c', f, '-m', 'metal']), { code: 0, stdout: `${f} is valid for metal mode\n`, stderr: 'WARNING: v1alpha1: .machine.type: use "worker" instead of "join" for machine type\n' });
    const strict = await run(['validate', '-c', f, '-m', 'metal', '--strict']);
    assert.equal(strict.code, 1);
    assert.equal(strict.stderr, 'error: 1 error occurred:\n\t* v1alpha1: .machine.type: warning: use "worker" instead of "join" for machine type\n');
  });

  it('needs --config and --mode, a known mode and a readable file', async () => {
    assert.equal((await run(['validate'])).stderr.split('\n')[0], 'error: required flag(s) "config", "mode" not set');
    assert.equal((await run(['validate', '-c', cp, '-m', 'bare'])).stderr, 'error: unknown mode "bare": expected one of metal, cloud, container\n');
    assert.equal((await run(['validate', '-c', join(dir, 'nope.yaml'), '-m', 'metal'])).stderr, `error: open ${join(dir, 'nope.yaml')}: no such file or directory\n`);
  });
});
