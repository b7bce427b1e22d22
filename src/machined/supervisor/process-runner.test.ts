import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parentDeathArgv } from './process-runner.js';

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** a file's text, or '' when it cannot be read (a /proc entry of a process that is gone) */
function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** runs argv to its end: exit code and stdout */
function run(argv: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

describe('parentDeathArgv', { skip: setpriv ? false : 'util-linux setpriv is not installed', timeout: 20_000 }, () => {
  it('runs the program, arguments intact, when the parent is the expected one', async () => {
    const r = await run(parentDeathArgv(setpriv!, '/bin/sh', process.pid, ['/bin/sh', '-c', 'printf "%s|" "$@"; echo', 'x', 'a b', '$HOME', '']));
    assert.equal(r.code, 0);
    assert.equal(r.out, 'a b|$HOME||\n');
  });

  it('does not run the program when its parent is no longer the supervisor (adopted before the signal was set)', async () => {
    const r = await run(parentDeathArgv(setpriv!, '/bin/sh', 1, ['/bin/echo', 'ran']));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
  });

  it('the program is killed when its parent dies with SIGKILL', async () => {
    // an intermediate process plays the supervisor: it starts `sleep` through the guard and reports its pid
    const parent = spawn(process.execPath, ['--input-type=module', '-e', `
      import { spawn } from 'node:child_process';
      const argv = ${JSON.stringify(parentDeathArgv(setpriv!, '/bin/sh', -1, ['/bin/sleep', '60']))};
      argv[argv.indexOf('-1')] = String(process.pid);
      const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true });
      c.once('spawn', () => process.stdout.write(String(c.pid) + '\\n'));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => parent.once('exit', r));
    const pid = await new Promise<number>((resolve) => {
      let text = '';
      parent.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.endsWith('\n')) resolve(Number(text.trim()));
      });
    });
    // the program is running (the guard exec'd it) before the parent goes
    const deadline = Date.now() + 10_000;
    const cmd = () => read(`/proc/${pid}/cmdline`);
    const alive = () => read(`/proc/${pid}/status`) !== '' && !/^State:\s+Z/m.test(read(`/proc/${pid}/status`));
    while (!cmd().startsWith('/bin/sleep') && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.ok(cmd().startsWith('/bin/sleep'), 'the program never started');
    parent.kill('SIGKILL');
    await exited;
    while (alive() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const outlived = alive();
    if (outlived) process.kill(pid, 'SIGKILL');
    assert.equal(outlived, false, 'the program outlived its parent');
  });
});
