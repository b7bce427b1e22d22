import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type handleUnaryCall, Server, ServerCredentials } from '@grpc/grpc-js';
import type { Empty } from '../src/api/gen/google/protobuf/empty.js';
import { MachineServiceService, type VersionResponse } from '../src/api/gen/machine/machine.js';
import { makeTestPKI, type TestPKI } from './helpers/openssl-pki.js';

const root = new URL('..', import.meta.url).pathname;

/**
 * Packs the project as npm would publish it, installs the tarball into an empty project, and uses `bronze/client`
 * from there: load a talosconfig, build a client, call a server.
 */
describe('the published bronze/client package', () => {
  let work: string;
  let pki: TestPKI;
  let server: Server;
  let port: number;

  before(async () => {
    assert.ok(existsSync(join(root, 'dist/client/index.js')), 'dist/ is missing: run `make build` first');
    work = mkdtempSync(join(tmpdir(), 'bronze-pack-'));
    pki = makeTestPKI();
    server = new Server();
    const version: handleUnaryCall<Empty, VersionResponse> = (_c, cb) =>
      cb(null, { messages: [{ metadata: undefined, version: { tag: 'v9.9.9', sha: '', built: '', goVersion: '', os: 'linux', arch: 'amd64' }, platform: undefined, features: undefined }] });
    server.addService(MachineServiceService, { version });
    const creds = ServerCredentials.createSsl(Buffer.from(pki.caCrt), [{ cert_chain: Buffer.from(pki.serverCrt), private_key: Buffer.from(pki.serverKey) }], true);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
  });

  after(async () => {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    pki.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs from the tarball and is imported as bronze/client', { timeout: 240_000 }, async () => {
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', join(work, tarball)], { cwd: app, stdio: 'pipe' });

    // a talosconfig as talosctl writes it: base64 PEMs, the key under Talos's Ed25519 label
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const talosKey = pki.clientKey.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '-----$1 ED25519 PRIVATE KEY-----');
    writeFileSync(
      join(app, 'talosconfig'),
      `context: demo\ncontexts:\n  demo:\n    endpoints:\n      - 127.0.0.1:${port}\n    nodes:\n      - 127.0.0.1\n    ca: ${b64(pki.caCrt)}\n    crt: ${b64(pki.clientCrt)}\n    key: ${b64(talosKey)}\n`,
    );
    writeFileSync(
      join(app, 'main.mjs'),
      `import { loadTalosconfig, loadClientFromTalosconfig, nodeResults, Client } from 'bronze/client';
const cfg = await loadTalosconfig('./talosconfig');
const client = await loadClientFromTalosconfig({ talosconfig: './talosconfig' });
const res = await client.machine.version({}, { nodes: [] });
client.close();
console.log(JSON.stringify({ context: cfg.context, isClient: client instanceof Client, tags: nodeResults(res).messages.map((m) => m.value.version.tag) }));
`,
    );
    // asynchronously: the server answering the call runs in this process
    const { stdout: out } = await promisify(execFile)(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(JSON.parse(out.trim()), { context: 'demo', isClient: true, tags: ['v9.9.9'] });
    assert.ok(existsSync(join(app, 'node_modules/bronze/dist/client/index.d.ts')), 'type declarations are packed');
  });
});
