import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'PID namespaces need root (CI runs as root)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) is not installed';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  return undefined;
}

/**
 * PID 1 in a PID namespace of its own, supervising a stand-in for machined (a shell script): reaping orphans, turning
 * exit codes into power-off, reboot or restart, and passing SIGTERM on.
 */
describe('PID 1 (initramfs/init.c)', { skip: unavailable() }, () => {
  let dir: string;
  let init: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-init-'));
    init = join(dir, 'init');
    execFileSync('gcc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', init, join(root, 'initramfs/init.c')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs init as PID 1 of a new PID namespace with `script` as machined; resolves with what it printed. */
  function runInit(script: string, opts: { onStart?: (pid: number) => void } = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
    const path = join(dir, `machined-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(path, script, { mode: 0o755 });
    return new Promise((resolve, reject) => {
      const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', init], {
        env: { PATH: process.env.PATH, BRONZE_INIT_SKIP_MOUNTS: '1', BRONZE_INIT_DRY_RUN: '1', BRONZE_INIT_MACHINED: path, STATE: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
        if (opts.onStart && stderr.includes('machined-ready')) {
          const cb = opts.onStart;
          opts.onStart = undefined;
          cb(child.pid!);
        }
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`init did not finish: ${stderr}`));
      }, 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code });
      });
    });
  }

  it('reaps orphaned processes', async () => {
    const r = await runInit(`#!/bin/sh
for i in $(seq 1 20); do (sleep 0.05 &) ; done
# wait for the orphans to die, then count zombies left
for i in $(seq 1 100); do
  z=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)
  [ "$z" -eq 0 ] && n=$(ls -d /proc/[0-9]* | wc -l) && [ "$n" -le 4 ] && break
  sleep 0.05
done
echo "zombies=$z" > "$STATE/zombies"
exit 10
`);
    assert.equal(readFileSync(join(dir, 'zombies'), 'utf8').trim(), 'zombies=0');
    assert.equal(r.stdout, 'bronze-init: rebooting\n');
  });

  it('restarts machined on exit 11 and powers off on exit 0', async () => {
    const r = await runInit(`#!/bin/sh
echo run >> "$STATE/runs"
[ $(wc -l < "$STATE/runs") -lt 2 ] && exit 11
exit 0
`);
    assert.equal(readFileSync(join(dir, 'runs'), 'utf8'), 'run\nrun\n');
    assert.match(r.stderr, /restarting machined/);
    assert.equal(r.stdout, 'bronze-init: powering off\n');
  });

  it('reboots after machined crashes, and halts on exit 12', async () => {
    assert.equal((await runInit('#!/bin/sh\nexit 3\n')).stdout, 'bronze-init: rebooting after a failure\n');
    assert.equal((await runInit('#!/bin/sh\nkill -SEGV $$\n')).stdout, 'bronze-init: rebooting after a failure\n');
    assert.equal((await runInit('#!/bin/sh\nexit 12\n')).stdout, 'bronze-init: halting\n');
  });

  it('passes SIGTERM on to machined', async () => {
    const r = await runInit(
      `#!/bin/sh
trap 'echo got-term > "$STATE/term"; exit 0' TERM
echo machined-ready >&2
while true; do sleep 0.05; done
`,
      {
        // PID 1 of the namespace is unshare's child: signal it, as the kernel or a container runtime would
        onStart: (pid) => {
          const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
          process.kill(Number(children[0]), 'SIGTERM');
        },
      },
    );
    assert.equal(readFileSync(join(dir, 'term'), 'utf8').trim(), 'got-term');
    assert.match(r.stderr, /powering off/);
  });
});
