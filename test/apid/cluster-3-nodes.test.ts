import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { SecurityServiceClient } from '../../src/api/gen/security/security.js';
import { Client } from '../../src/client/client.js';
import { RpcError } from '../../src/client/errors.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { nodeResults } from '../../src/client/results.js';
import { loadTalosconfig } from '../../src/client/talosconfig.js';
import { loadConfig } from '../../src/config/loader.js';
import { createCA, issueKeyPair, loadCA } from '../../src/pki/index.js';
import { type ClusterInfo, readCluster } from '../../src/provision/process.js';
import { bronzectl, destroyProcessCluster } from '../helpers/bronzectl.js';

const CIDR = '127.77.20.0/24';
const [CP, W1, W2] = ['127.77.20.2', '127.77.20.3', '127.77.20.4'];
const MiB = 1024 * 1024;
const rpcCode = (code: status, message?: RegExp) => (e: unknown) => e instanceof RpcError && e.grpcCode === code && (!message || message.test(e.message));

/**
 * A real process cluster (one control plane, two workers, each a machined with its apid; trustd on the control
 * plane) driven through the control plane's apid: fan-out, one-to-one, merged log streams, roles, refused
 * certificates, trustd's CSR policy, message size limits, and a node that dies.
 */
describe('apid on a three-node process cluster', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let info: ClusterInfo;
  let admin: Client;
  let ca: { crt: string; key: string };
  let token: string;
  const clients: Client[] = [];
  const clientWith = (tls: { crt?: string; key?: string; ca?: string }) => {
    const c = new Client({ endpoints: [`${CP}:50000`], tls: { ca: ca.crt, ...tls } });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-c3-'));
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig') };
    const r = await bronzectl(['cluster', 'create', '--name', 'c3', '--state', join(dir, 'clusters'), '--cidr', CIDR, '--controlplanes', '1', '--workers', '2', '--wait-timeout', '3m'], env);
    assert.equal(r.code, 0, r.stderr);
    info = readCluster(join(dir, 'clusters'), 'c3');
    assert.deepEqual(info.nodes.map((n) => n.address), [CP, W1, W2]);
    const talosconfig = await loadTalosconfig(join(dir, 'talosconfig'));
    admin = new Client(clientOptionsFromContext(talosconfig.contexts.c3!, { endpoints: [`${CP}:50000`] }));
    clients.push(admin);
    const cfg = loadConfig(readFileSync(join(dir, 'clusters', 'c3', info.nodes[0]!.name, 'config.yaml'), 'utf8')).v1alpha1!;
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    ca = { crt: b64(cfg.machine!.ca!.crt!), key: b64(cfg.machine!.ca!.key!) };
    token = cfg.machine!.token!;
  });

  after(async () => {
    for (const c of clients) c.close();
    await destroyProcessCluster('c3', join(dir, 'clusters'), env, info);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fans Version, Hostname and ServiceList out to the three nodes, one labelled answer each', { timeout: 60_000 }, async () => {
    const nodes = [CP, W1, W2];
    const hostnames = new Map<string, string>();
    for (const n of nodes) hostnames.set(n, (await admin.machine.hostname({}, { timeout: 10_000, node: n })).messages[0]!.hostname);
    assert.equal(new Set(hostnames.values()).size, 3, [...hostnames.values()].join());

    const h = nodeResults(await admin.machine.hostname({}, { timeout: 10_000, nodes }));
    assert.deepEqual(h.errors, []);
    assert.deepEqual(
      h.messages.map((m) => [m.node, m.value.hostname]).sort(),
      nodes.map((n) => [n, hostnames.get(n)]),
    );
    const v = nodeResults(await admin.machine.version({}, { timeout: 10_000, nodes }));
    assert.deepEqual(v.messages.map((m) => m.node).sort(), nodes);
    for (const m of v.messages) assert.equal(m.value.features?.rbac, true);
    const s = nodeResults(await admin.machine.serviceList({}, { timeout: 10_000, nodes }));
    const byNode = new Map(s.messages.map((m) => [m.node!, m.value.services.map((x) => x.id)]));
    assert.ok(byNode.get(CP)!.includes('trustd'), byNode.get(CP)!.join());
    for (const w of [W1, W2]) assert.ok(byNode.get(w)!.includes('apid') && !byNode.get(w)!.includes('trustd'), byNode.get(w)!.join());
  });

  it('proxies `node` one-to-one: the worker answers, unlabelled', { timeout: 30_000 }, async () => {
    const r = await admin.machine.hostname({}, { timeout: 10_000, node: W1 });
    assert.equal(r.messages.length, 1);
    assert.equal(r.messages[0]!.metadata?.hostname ?? '', '');
    assert.match(r.messages[0]!.hostname, /\S/);
  });

  it('merges followed logs of two nodes, each message labelled, and cancels cleanly', { timeout: 60_000 }, async () => {
    const ac = new AbortController();
    const seen = new Set<string>();
    try {
      for await (const d of admin.machine.logs({ namespace: 'system', id: 'machined', driver: 0, follow: true, tailLines: 5 }, { nodes: [W1, W2], signal: ac.signal })) {
        assert.ok(d.bytes.length > 0);
        seen.add(d.metadata!.hostname);
        if (seen.size === 2) break;
      }
    } finally {
      ac.abort();
    }
    assert.deepEqual([...seen].sort(), [W1, W2]);
    // the cluster still answers after the cancelled stream (the context's nodes: all three)
    const after = nodeResults(await admin.machine.version({}, { timeout: 10_000 }));
    assert.deepEqual(after.messages.map((m) => m.node).sort(), [CP, W1, W2]);
  });

  it('lets a reader read and refuses it Reboot', { timeout: 30_000 }, async () => {
    const reader = await issueKeyPair(loadCA(ca.crt, ca.key), { subject: { commonName: 'reader', organization: ['os:reader'] }, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    const c = clientWith({ crt: reader.certPEM, key: reader.keyPEM });
    assert.equal((await c.machine.version({}, { timeout: 10_000 })).messages.length, 1);
    assert.equal(nodeResults(await c.machine.version({}, { timeout: 10_000, nodes: [W1, W2] })).messages.length, 2);
    await assert.rejects(c.machine.reboot({ mode: 0 }, { timeout: 10_000, node: W1 }), rpcCode(status.PERMISSION_DENIED, /not authorized/));
  });

  it('refuses the handshake without a client certificate, with an expired one, or one from a foreign CA', { timeout: 60_000 }, async () => {
    await assert.rejects(clientWith({}).machine.version({}, { timeout: 10_000 }), rpcCode(status.UNAVAILABLE));
    const past = new Date(Date.now() - 48 * 3_600_000);
    const expired = await issueKeyPair(loadCA(ca.crt, ca.key), {
      subject: { organization: ['os:admin'] },
      notBefore: past,
      notAfter: new Date(past.getTime() + 3_600_000),
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['clientAuth'],
    });
    await assert.rejects(clientWith({ crt: expired.certPEM, key: expired.keyPEM }).machine.version({}, { timeout: 10_000 }), rpcCode(status.UNAVAILABLE));
    const foreign = await issueKeyPair(await createCA('ed25519', { organization: ['talos'] }), { subject: { organization: ['os:admin'] }, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    await assert.rejects(clientWith({ crt: foreign.certPEM, key: foreign.keyPEM }).machine.version({}, { timeout: 10_000 }), rpcCode(status.UNAVAILABLE));
  });

  it('trustd signs a server CSR for the token holder and refuses one asking for client auth', { timeout: 30_000 }, async () => {
    const csr = (name: string, ext?: string) => {
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, `${name}.key`)]);
      const args = ['req', '-new', '-key', join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-out', join(dir, `${name}.csr`)];
      if (ext) args.push('-addext', ext);
      execFileSync('openssl', args);
      return readFileSync(join(dir, `${name}.csr`));
    };
    const trustd = new SecurityServiceClient(`${CP}:50001`, credentials.createSsl(Buffer.from(ca.crt)));
    const sign = (req: Buffer) =>
      new Promise<{ crt: Uint8Array }>((resolve, reject) => {
        const md = new Metadata();
        md.set('token', token);
        trustd.certificate({ csr: req }, md, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!)));
      });
    try {
      const ok = await sign(csr('joining-node'));
      assert.match(Buffer.from(ok.crt).toString(), /-----BEGIN CERTIFICATE-----/);
      await assert.rejects(sign(csr('evil', 'extendedKeyUsage=clientAuth')), (e: { code: number; details: string }) => e.code === status.PERMISSION_DENIED && /client/i.test(e.details));
    } finally {
      trustd.close();
    }
  });

  it('passes 30 MiB on to a worker and refuses 33 MiB with ResourceExhausted', { timeout: 120_000 }, async () => {
    // the worker judges 30 MiB of spaces: not a config, but it got there
    await assert.rejects(admin.machine.applyConfiguration({ data: Buffer.alloc(30 * MiB, 0x20), mode: 2 }, { timeout: 60_000, node: W1 }), rpcCode(status.INVALID_ARGUMENT));
    await assert.rejects(admin.machine.applyConfiguration({ data: Buffer.alloc(33 * MiB, 0x20), mode: 2 }, { timeout: 60_000, node: W1 }), rpcCode(status.RESOURCE_EXHAUSTED));
  });

  it('gives a node too slow for the caller’s deadline its own error entry, in time for the others’ answers', { timeout: 60_000 }, async () => {
    const slow = info.nodes.find((n) => n.address === W1)!;
    process.kill(-slow.pid, 'SIGSTOP');
    try {
      const t0 = performance.now();
      const r = nodeResults(await admin.machine.version({}, { timeout: 3000, nodes: [CP, W1] }));
      assert.ok(performance.now() - t0 < 3000);
      assert.deepEqual(r.messages.map((m) => m.node), [CP]);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.node, W1);
      assert.match(r.errors[0]!.message, /code = DeadlineExceeded/);
    } finally {
      process.kill(-slow.pid, 'SIGCONT');
    }
    // awake again, it answers
    assert.equal((await admin.machine.hostname({}, { timeout: 10_000, node: W1 })).messages.length, 1);
  });

  it('answers for the living when a node dies: two answers and an error entry, within the deadline', { timeout: 60_000 }, async () => {
    const dead = info.nodes.find((n) => n.address === W2)!;
    process.kill(-dead.pid, 'SIGKILL');
    const t0 = performance.now();
    const r = nodeResults(await admin.machine.version({}, { timeout: 5000, nodes: [CP, W1, W2] }));
    assert.ok(performance.now() - t0 < 5000);
    assert.deepEqual(r.messages.map((m) => m.node).sort(), [CP, W1]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.node, W2);
    assert.match(r.errors[0]!.message, /code = Unavailable/);
  });
});
