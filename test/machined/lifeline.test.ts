import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * A supervisor process (standing in for machined) runs a service with a lifeline and is killed with SIGKILL; the
 * service, in a process group of its own, sees its lifeline end and exits instead of living on as an orphan.
 */
describe('the lifeline of a supervised process', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-lifeline-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A process that supervises `service` (run with tsx) with a lifeline, as machined does apid. */
  const startSupervisor = (name: string, service: string) => {
    const supervisor = join(dir, `${name}.mts`);
    writeFileSync(
      supervisor,
      `import { Supervisor, ProcessRunner } from ${JSON.stringify(join(root, 'src/machined/supervisor/index.ts'))};
      const sup = new Supervisor();
      await sup.loadAndStart({ id: 'svc', runner: () => new ProcessRunner({ id: 'svc', args: [process.execPath, '--import', 'tsx', ${JSON.stringify(service)}], lifeline: true }) });
      setInterval(() => {}, 1 << 30);
      `,
    );
    return spawn(process.execPath, ['--import', 'tsx', supervisor], { cwd: root, stdio: 'ignore' });
  };

  it('ends the service when its supervisor is killed outright', { timeout: 60_000 }, async () => {
    const service = join(dir, 'service.mjs');
    writeFileSync(
      service,
      `import { writeFileSync } from 'node:fs';
      import { watchLifeline } from ${JSON.stringify(join(root, 'src/sys/lifeline.ts'))};
      const ok = watchLifeline(() => { writeFileSync(${JSON.stringify(join(dir, 'gone'))}, String(process.pid)); process.exit(0); });
      writeFileSync(${JSON.stringify(join(dir, 'started'))}, ok + ' ' + process.pid);
      setInterval(() => {}, 1 << 30);
      `,
    );
    const child = startSupervisor('supervisor', service);
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const started = await waitForFile(dir, join(dir, 'started'), (t) => t !== '', 30_000);
      const [ok, pid] = started.split(' ');
      assert.equal(ok, 'true', 'the service has a lifeline');
      child.kill('SIGKILL');
      await exited;
      assert.equal(await waitForFile(dir, join(dir, 'gone'), (t) => t !== '', 30_000), pid);
    } finally {
      child.kill('SIGKILL');
      const pid = Number((existsSync(join(dir, 'started')) ? readFileSync(join(dir, 'started'), 'utf8') : '').split(' ')[1] ?? 0);
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // ended, as it should
        }
      }
    }
  });

  it('the kernel kills a service whose event loop is stuck when its supervisor is killed', { timeout: 60_000 }, async () => {
    // the service connects to the test, then blocks its event loop for good; its death closes the connection
    const sock = join(dir, 'stuck.sock');
    const connected = new Promise<Socket>((resolve) => {
      const server = createServer((c) => {
        server.close();
        resolve(c);
      });
      server.listen(sock);
    });
    const service = join(dir, 'stuck.mjs');
    writeFileSync(
      service,
      `import { connect } from 'node:net';
      import { dieWithSupervisor } from ${JSON.stringify(join(root, 'src/sys/lifeline.ts'))};
      const why = dieWithSupervisor();
      const c = connect(${JSON.stringify(sock)}, () => c.write(String(why ?? 'armed'), () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)));
      `,
    );
    const child = startSupervisor('stuck-supervisor', service);
    try {
      const c = await connected;
      const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
      const said = await new Promise<string>((resolve) => c.once('data', (d) => resolve(d.toString())));
      assert.equal(said, 'armed');
      child.kill('SIGKILL');
      await closed;
    } finally {
      child.kill('SIGKILL');
    }
  });
});
