import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

const listening = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** `make run` brings up the default cluster in the foreground; Ctrl-C takes it down, leaving nothing listening. */
describe('make run', () => {
  const home = mkdtempSync(join(tmpdir(), 'bronze-makerun-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('starts the default cluster, answers, and tears it down on Ctrl-C', { timeout: 300_000 }, async () => {
    const env = { ...process.env, HOME: home, TALOSCONFIG: '' };
    delete (env as Record<string, string | undefined>).TALOSCONFIG;
    const make = spawn('make', ['--no-print-directory', 'run'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    make.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => make.once('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      make.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Press Ctrl-C')) resolve();
      });
      void exited.then((code) => reject(new Error(`make run ended (${code}) before the cluster was up: ${out}\n${err.slice(-3000)}`)));
    });
    const talosconfig = join(home, '.talos', 'config');
    assert.match(out, new RegExp(`talosconfig: ${talosconfig.replace(/[.]/g, '\\.')}`));
    assert.equal((out.match(/^ {2}\.\/bin\/bronzectl /gm) ?? []).length, 3, 'three commands to try');
    const { stdout } = await promisify(execFile)(join(root, 'bin/bronzectl'), ['--talosconfig', talosconfig, '-n', '127.65.0.3', 'version'], { env });
    assert.match(stdout, /NODE:        127\.65\.0\.3/);
    // Ctrl-C reaches the whole foreground process group
    process.kill(-make.pid!, 'SIGINT');
    await exited;
    for (const [host, port] of [
      ['127.65.0.2', 50000],
      ['127.65.0.2', 50001],
      ['127.65.0.3', 50000],
    ] as const) {
      assert.equal(await listening(host, port), false, `${host}:${port} still listens`);
    }
  });
});
