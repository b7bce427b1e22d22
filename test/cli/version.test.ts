import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type handleUnaryCall, Server, ServerCredentials } from '@grpc/grpc-js';
import type { Empty } from '../../src/api/gen/google/protobuf/empty.js';
import { MachineServiceService, type VersionResponse } from '../../src/api/gen/machine/machine.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';
import { bronzectl as runBronzectl } from '../helpers/bronzectl.js';

const root = new URL('../..', import.meta.url).pathname;

const bronzectl = (args: string[], env: NodeJS.ProcessEnv = {}) => runBronzectl(args, { HOME: '/nonexistent', ...env });

describe('bronzectl version', () => {
  let pki: TestPKI;
  let server: Server;
  let dir: string;
  let port: number;

  before(async () => {
    pki = makeTestPKI();
    dir = mkdtempSync(join(tmpdir(), 'bronze-cli-'));
    server = new Server();
    const version: handleUnaryCall<Empty, VersionResponse> = (call, cb) => {
      const nodes = call.metadata.get('nodes').join(',').split(',').map((s) => s.trim()).filter(Boolean);
      const info = { tag: 'v1.13.9', sha: 'abc123', built: '', goVersion: 'go1.24.4', os: 'linux', arch: 'amd64' };
      if (nodes.length === 0) return cb(null, { messages: [{ metadata: undefined, version: info, platform: { name: 'metal', mode: 'metal' }, features: { rbac: true } }] });
      // as apid answers a fan-out: one element per node, the last one failed
      cb(null, {
        messages: nodes.map((n, i) =>
          i === nodes.length - 1 && nodes.length > 1
            ? { metadata: { hostname: n, error: 'rpc error: code = Unavailable desc = connection refused', status: { code: 14, message: 'connection refused', details: [] } }, version: undefined, platform: undefined, features: undefined }
            : { metadata: { hostname: n, error: '', status: undefined }, version: info, platform: { name: 'metal', mode: 'metal' }, features: { rbac: true } },
        ),
      });
    };
    server.addService(MachineServiceService, { version });
    const creds = ServerCredentials.createSsl(Buffer.from(pki.caCrt), [{ cert_chain: Buffer.from(pki.serverCrt), private_key: Buffer.from(pki.serverKey) }], true);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(
      join(dir, 'talosconfig'),
      `context: test\ncontexts:\n  test:\n    endpoints:\n      - 127.0.0.1:${port}\n    ca: ${b64(pki.caCrt)}\n    crt: ${b64(pki.clientCrt)}\n    key: ${b64(pki.clientKey)}\n`,
    );
  });

  after(async () => {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the client version from the built CLI', async () => {
    const { stdout } = await promisify(execFile)(join(root, 'bin/bronzectl'), ['version', '--client'], { encoding: 'utf8' });
    assert.match(stdout, /^Client:\n\tTag:         v\d+\.\d+\.\d+\n\tSHA:         \S+\n\tBuilt:       .*\n\tRuntime:     node v\d+/);
  });

  it('prints the server version of the endpoint', async () => {
    const r = await bronzectl(['--talosconfig', join(dir, 'talosconfig'), 'version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Server:\n\tNODE:        127\.0\.0\.1\n\tTag:         v1\.13\.9\n\tSHA:         abc123\n\tBuilt:       \n\tGo version:  go1\.24\.4\n\tOS\/Arch:     linux\/amd64\n\tEnabled:     RBAC\n$/);
  });

  it('prints each node and one line per failed node, exiting non-zero', async () => {
    const r = await bronzectl(['version', '-n', '10.5.0.2,10.5.0.3'], { TALOSCONFIG: join(dir, 'talosconfig') });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /NODE:        10\.5\.0\.2\n/);
    assert.doesNotMatch(r.stdout, /10\.5\.0\.3/);
    assert.equal(r.stderr, 'error: node 10.5.0.3: connection refused\n');
  });

  it('says which context or file is wrong', async () => {
    const missing = await bronzectl(['--talosconfig', join(dir, 'nope'), 'version']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /talosconfig not found at .*nope/);
    const ctx = await bronzectl(['--talosconfig', join(dir, 'talosconfig'), '--context', 'prod', 'version']);
    assert.equal(ctx.code, 1);
    assert.match(ctx.stderr, /context "prod" is not defined in talosconfig \(contexts: test\)/);
  });

  it('prints JSON with --json', async () => {
    const r = await bronzectl(['--talosconfig', join(dir, 'talosconfig'), 'version', '--json']);
    const v = JSON.parse(r.stdout.trim());
    assert.equal(v.version.tag, 'v1.13.9');
    assert.equal(v.metadata.hostname, '127.0.0.1');
  });
});
