import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { alive, createCluster, fileTail, ProvisionError } from './process.js';

const tmp = mkdtempSync(join(tmpdir(), 'bronze-provision-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A stand-in for the bronze program: the discovery role idles; `machined` writes a line naming its state directory,
 * then exits with 3 (`exit`) or idles without ever serving the API (`hang`). Every pid is appended to `pidFile`.
 */
function fakeBronze(mode: 'exit' | 'hang', pidFile: string): string[] {
  const script = `
    const args = process.argv.slice(1);
    require('node:fs').appendFileSync(${JSON.stringify(pidFile)}, process.pid + '\\n');
    if (args[0] === 'machined') {
      const state = args[args.indexOf('--state') + 1];
      console.log('machined: the state partition of ' + state + ' cannot be mounted');
      if (${JSON.stringify(mode)} === 'exit') process.exit(3);
    }
    setInterval(() => {}, 1 << 30);`;
  return [process.execPath, '-e', script];
}

/** A create whose node fails; returns its error once every process it started is gone. */
async function failedCreate(name: string, mode: 'exit' | 'hang'): Promise<ProvisionError> {
  const stateDir = join(tmp, name);
  const talosconfig = join(tmp, `${name}.talosconfig`);
  const pidFile = join(tmp, `${name}.pids`);
  let err: ProvisionError | undefined;
  try {
    // nothing answers on this range: the fake nodes never listen
    await createCluster({ name, stateDir, cidr: '127.66.250.0/24', controlplanes: 1, workers: 0, talosconfig, bronzeCommand: fakeBronze(mode, pidFile), waitTimeoutMs: 1500, discoveryPort: 3999 });
  } catch (e) {
    assert.ok(e instanceof ProvisionError, String(e));
    err = e;
  }
  assert.ok(err, 'the create succeeded');
  // the discovery service and the node
  const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  assert.equal(pids.length, 2);
  // stopped processes are reaped by this process's event loop: wait for that, within a deadline
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.deepEqual(pids.filter(alive), []);
  assert.equal(existsSync(join(stateDir, name)), false);
  return err;
}

describe('process provisioner: a node that does not come up', () => {
  it('a node that exits: the error carries its output; no process and no state is left', { timeout: 30_000 }, async () => {
    const e = await failedCreate('exits', 'exit');
    assert.equal(e.code, 'BRONZE_PROVISION');
    assert.match(e.message, /^exits-controlplane-1 exited\n--- exits-controlplane-1: machined ---\nmachined: the state partition of \S*exits-controlplane-1 cannot be mounted$/);
  });

  it('a node that never answers: a timeout error with its output; no process and no state is left', { timeout: 30_000 }, async () => {
    const e = await failedCreate('hangs', 'hang');
    assert.equal(e.code, 'BRONZE_PROVISION_TIMEOUT');
    assert.match(e.message, /^hangs-controlplane-1 did not answer in time: [^\n]+\n--- hangs-controlplane-1: machined ---\nmachined: the state partition of \S*hangs-controlplane-1 cannot be mounted$/);
  });
});

describe('fileTail', () => {
  it('the last lines of a file, without carriage returns; a stand-in when it is missing or empty', () => {
    const f = join(tmp, 'tail.txt');
    writeFileSync(f, 'a\r\nb\nc\nd\n\n');
    assert.equal(fileTail(f, 2), 'c\nd');
    assert.equal(fileTail(f, 10), 'a\nb\nc\nd');
    writeFileSync(f, '');
    assert.equal(fileTail(f, 2, '(nothing)'), '(nothing)');
    assert.equal(fileTail(join(tmp, 'none'), 2), '(no output)');
  });
});
