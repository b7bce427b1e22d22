import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { status } from '@grpc/grpc-js';
import { parseTalosconfig } from '../../client/talosconfig.js';
import { generateBundle, type ConfigBundle } from '../../config/generate/config.js';
import { certificateKeyAlgorithm, subjectOrganizations, verifyIssuedBy } from '../../pki/cert.js';
import { parsePrivateKey } from '../../pki/keys.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { clientContextName, generateClientConfiguration, normalizeRoles } from './client-config.js';
import { editV1Alpha1, rejectsWithGrpc } from './testing.js';

let bundle: ConfigBundle;
let cpText: string;
let osCAPEM: string;

const hour = { seconds: '3600', nanos: 0 };
// whole seconds, as certificates hold them
const now = new Date(Math.floor(Date.now() / 1000) * 1000);

function extensionsOf(pem: Buffer) {
  const c = new x509.X509Certificate(pem.toString('utf8'));
  return {
    eku: [...(c.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
    ku: c.getExtension(x509.KeyUsagesExtension)?.usages,
    basic: c.getExtension(x509.BasicConstraintsExtension),
  };
}

describe('GenerateClientConfiguration', () => {
  before(async () => {
    bundle = await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443', installDisk: '/dev/vda' });
    cpText = bundle.controlplane.toString();
    osCAPEM = fromBase64PEM(bundle.controlplane.v1alpha1!.machine!.ca!.crt!, 'machine.ca.crt');
  });

  it('signs a client certificate with the OS CA: roles as O, digitalSignature, clientAuth only, the requested TTL', async () => {
    const r = await generateClientConfiguration(cpText, { roles: ['os:reader', 'os:admin'], crtTtl: hour }, now);
    assert.equal(r.ca.toString(), osCAPEM);
    const ca = new X509Certificate(r.ca);
    const crt = new X509Certificate(r.crt);
    assert.ok(crt.checkIssued(ca));
    assert.ok(crt.verify(ca.publicKey));
    assert.ok(verifyIssuedBy(crt, ca, new Date(now.getTime() + 1000)));
    assert.equal(crt.issuer, ca.subject);
    assert.equal(crt.ca, false);
    assert.deepEqual(subjectOrganizations(crt), ['os:admin', 'os:reader']);
    const ext = extensionsOf(r.crt);
    assert.deepEqual(ext.eku, [x509.ExtendedKeyUsage.clientAuth]);
    assert.equal(ext.ku, x509.KeyUsageFlags.digitalSignature);
    assert.equal(ext.basic, null);
    assert.equal(new Date(crt.validFrom).getTime(), now.getTime());
    assert.equal(new Date(crt.validTo).getTime() - new Date(crt.validFrom).getTime(), 3_600_000);

    // the key is the CA's algorithm (Ed25519 for Talos's OS CA), under Talos's PEM label, and matches the certificate
    const keyText = r.key.toString();
    assert.match(keyText, /^-----BEGIN ED25519 PRIVATE KEY-----\n/);
    const key = parsePrivateKey(keyText);
    assert.equal(key.algorithm, 'ed25519');
    assert.equal(certificateKeyAlgorithm(crt), 'ed25519');
    assert.ok(crt.checkPrivateKey(key.key));
  });

  it('writes a talosconfig with the certificate, the CA and no endpoints; context <role>@<cluster> for one role', async () => {
    const r = await generateClientConfiguration(cpText, { roles: ['os:reader'], crtTtl: { seconds: '86400', nanos: 0 } }, now);
    const text = r.talosconfig.toString();
    const tc = parseTalosconfig(text);
    assert.equal(tc.context, 'reader@demo');
    assert.deepEqual(Object.keys(tc.contexts), ['reader@demo']);
    const ctx = tc.contexts['reader@demo']!;
    assert.deepEqual(ctx.endpoints, []);
    assert.match(text, /^ {4}reader@demo:\n {8}endpoints: \[\]\n/m);
    assert.equal(fromBase64PEM(ctx.ca!, 'ca'), r.ca.toString());
    assert.equal(fromBase64PEM(ctx.crt!, 'crt'), r.crt.toString());
    assert.equal(fromBase64PEM(ctx.key!, 'key'), r.key.toString());
    assert.equal(ctx.nodes, undefined);
    assert.deepEqual(subjectOrganizations(new X509Certificate(r.crt)), ['os:reader']);
    assert.equal(new Date(new X509Certificate(r.crt).validTo).getTime() - now.getTime(), 86_400_000);
  });

  it('names the context after the cluster for several roles or none, and keeps unknown roles', async () => {
    const two = await generateClientConfiguration(cpText, { roles: ['os:admin', 'os:operator'], crtTtl: hour }, now);
    assert.equal(parseTalosconfig(two.talosconfig.toString()).context, 'demo');

    const none = await generateClientConfiguration(cpText, { roles: [], crtTtl: hour }, now);
    assert.equal(parseTalosconfig(none.talosconfig.toString()).context, 'demo');
    assert.deepEqual(subjectOrganizations(new X509Certificate(none.crt)), []);

    const unknown = await generateClientConfiguration(cpText, { roles: [' custom:thing ', '', 'custom:thing'], crtTtl: hour }, now);
    assert.equal(parseTalosconfig(unknown.talosconfig.toString()).context, 'custom:thing@demo');
    assert.deepEqual(subjectOrganizations(new X509Certificate(unknown.crt)), ['custom:thing']);
  });

  it('parses roles as Talos: trimmed, empty dropped, deduplicated, sorted', () => {
    assert.deepEqual(normalizeRoles(['os:reader', ' os:admin', '', 'os:reader', 'b', 'B']), ['B', 'b', 'os:admin', 'os:reader']);
    assert.equal(clientContextName(['os:etcd:backup'], 'c1'), 'etcd:backup@c1');
    assert.equal(clientContextName(['os:admin', 'os:reader'], 'c1'), 'c1');
    assert.equal(clientContextName([], 'c1'), 'c1');
  });

  it('works on the init type too, and uses the cluster name of the config', async () => {
    const text = editV1Alpha1(cpText, (v) => {
      v.machine!.type = 'init';
      v.cluster!.clusterName = 'other';
    });
    const r = await generateClientConfiguration(text, { roles: ['os:admin'], crtTtl: hour }, now);
    assert.equal(parseTalosconfig(r.talosconfig.toString()).context, 'admin@other');
  });

  it('adds sub-second nanos to the TTL', async () => {
    const r = await generateClientConfiguration(cpText, { roles: ['os:admin'], crtTtl: { seconds: '60', nanos: 999_000_000 } }, now);
    const crt = new X509Certificate(r.crt);
    // certificates hold whole seconds: 60.999 s is written as 60 s
    assert.equal(new Date(crt.validTo).getTime() - now.getTime(), 60_000);
  });

  it('answers Unimplemented without a config and on workers, before looking at the TTL', async () => {
    await rejectsWithGrpc(generateClientConfiguration(undefined, { roles: ['os:admin'], crtTtl: hour }), status.UNIMPLEMENTED, 'machine type is not set, cannot use generate client configuration API');
    await rejectsWithGrpc(generateClientConfiguration('', { roles: ['os:admin'], crtTtl: hour }), status.UNIMPLEMENTED, 'machine type is not set, cannot use generate client configuration API');
    const worker = bundle.worker.toString();
    await rejectsWithGrpc(generateClientConfiguration(worker, { roles: ['os:admin'], crtTtl: hour }), status.UNIMPLEMENTED, 'generate client configuration is only available on control plane nodes');
    await rejectsWithGrpc(generateClientConfiguration(worker, { roles: ['os:admin'], crtTtl: { seconds: '0', nanos: 0 } }), status.UNIMPLEMENTED, 'generate client configuration is only available on control plane nodes');
    assert.equal(status.UNIMPLEMENTED, 12);
  });

  it('answers InvalidArgument for a TTL that is not positive', async () => {
    for (const crtTtl of [{ seconds: '0', nanos: 0 }, { seconds: '-5', nanos: 0 }, { seconds: '0', nanos: -1 }, undefined]) {
      await rejectsWithGrpc(generateClientConfiguration(cpText, { roles: ['os:admin'], crtTtl }), status.INVALID_ARGUMENT, 'crt_ttl should be positive');
    }
    await rejectsWithGrpc(generateClientConfiguration(cpText, { roles: ['os:admin'] }), 3, 'crt_ttl should be positive');
  });

  it('fails with Unknown when the config has no OS CA key', async () => {
    const text = editV1Alpha1(cpText, (v) => {
      v.machine!.ca = { crt: v.machine!.ca!.crt!, key: '' };
    });
    await assert.rejects(generateClientConfiguration(text, { roles: ['os:admin'], crtTtl: hour }), (e: unknown) => (e as { grpcCode?: number }).grpcCode === status.UNKNOWN);
  });
});
