import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const skip = process.getuid?.() !== 0 ? 'bind mounts need root (CI runs as root)' : spawnSync('unshare', ['--version']).status !== 0 ? 'unshare (util-linux) is not installed' : undefined;

/**
 * /etc files on metal, in a mount namespace of the test's own: each file is written under the node's etc root and
 * bind-mounted over its name in /etc (here a directory standing in for it), and later updates show through the mount.
 */
describe('/etc files bind-mounted on metal', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-etcbind-'));
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'hosts'), 'placeholder\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the node’s hosts file at /etc/hosts, and its updates', { timeout: 60_000 }, () => {
    const script = join(dir, 'bind.mts');
    const src = (p: string) => JSON.stringify(join(root, p));
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
      import { ControllerTest } from ${src('src/controllers/ctest.ts')};
      import { FilesEtcFileController } from ${src('src/controllers/files/etc-file.ts')};
      const t = ControllerTest.start([new FilesEtcFileController(${JSON.stringify(join(dir, 'system-etc'))}, ${JSON.stringify(join(dir, 'etc'))})]);
      const spec = { namespace: 'files', type: 'EtcFileSpecs.files.talos.dev', id: 'hosts' };
      const status = { namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id: 'hosts' };
      await t.create(spec, { contents: '127.0.0.1 localhost\\n', mode: 420, selinux_label: '' });
      const v1 = await t.expect(status);
      const first = readFileSync(${JSON.stringify(join(dir, 'etc', 'hosts'))}, 'utf8');
      await t.update(spec, () => ({ contents: '127.0.0.1 localhost\\n10.5.0.2 cp-1\\n', mode: 420, selinux_label: '' }));
      await t.expect(status, (s) => s.specVersion !== v1.specVersion);
      const second = readFileSync(${JSON.stringify(join(dir, 'etc', 'hosts'))}, 'utf8');
      await t.stop();
      console.log(JSON.stringify({ first, second }));
      `,
    );
    const out = JSON.parse(execFileSync('unshare', ['--mount', '--propagation', 'private', process.execPath, '--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 40_000 })) as { first: string; second: string };
    assert.equal(out.first, '127.0.0.1 localhost\n');
    assert.equal(out.second, '127.0.0.1 localhost\n10.5.0.2 cp-1\n');
  });
});
