import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { status } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { generateBundle, type ConfigBundle } from '../../config/generate/config.js';
import { certificateKeyAlgorithm, createCA, subjectOrganizations, toBase64Pair, verifyIssuedBy } from '../../pki/cert.js';
import { parsePrivateKey } from '../../pki/keys.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { ADMIN_CERT_DEFAULT_LIFETIME_MS, adminKubeconfig, kubeconfigArchive } from './kubeconfig.js';
import { editV1Alpha1, rejectsWithGrpc } from './testing.js';

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  contexts: { name: string; context: { cluster: string; namespace: string; user: string } }[];
  'current-context': string;
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

let bundle: ConfigBundle;
let cpText: string;
let k8sCAPEM: string;
let dir: string;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** The entries of an uncompressed tar: name, mode, size, type flag, content. */
function readTar(tar: Buffer) {
  const out: { name: string; mode: number; size: number; type: string; uid: number; gid: number; magic: string; content: Buffer }[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('latin1').replace(/\0.*$/s, '');
    const num = (a: number, n: number) => parseInt(str(a, n).trim() || '0', 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    assert.equal(num(148, 8), sum, 'header checksum');
    const size = num(124, 12);
    out.push({ name: str(0, 100), mode: num(100, 8), size, type: str(156, 1), uid: num(108, 8), gid: num(116, 8), magic: h.subarray(257, 263).toString('latin1'), content: tar.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return { entries: out, end: off };
}

function certOf(pemB64: string) {
  const pem = b64(pemB64);
  return { pem, node: new X509Certificate(pem), peculiar: new x509.X509Certificate(pem) };
}

describe('Kubeconfig', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-kubeconfig-'));
    bundle = await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443', installDisk: '/dev/vda' });
    cpText = bundle.controlplane.toString();
    k8sCAPEM = fromBase64PEM(bundle.controlplane.v1alpha1!.cluster!.ca!.crt!, 'cluster.ca.crt');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the admin kubeconfig in kubectl layout: sorted keys, admin@<cluster>, namespace default, no preferences', async () => {
    const text = await adminKubeconfig(cpText, now);
    const k = parse(text) as Kubeconfig;
    assert.deepEqual(Object.keys(k), ['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'users']);
    assert.equal(k.apiVersion, 'v1');
    assert.equal(k.kind, 'Config');
    assert.equal(k['current-context'], 'admin@demo');
    assert.equal(k.clusters.length, 1);
    assert.equal(k.clusters[0]!.name, 'demo');
    assert.equal(k.clusters[0]!.cluster.server, 'https://10.5.0.2:6443');
    assert.equal(b64(k.clusters[0]!.cluster['certificate-authority-data']), k8sCAPEM);
    assert.deepEqual(k.contexts, [{ name: 'admin@demo', context: { cluster: 'demo', namespace: 'default', user: 'admin@demo' } }]);
    assert.equal(k.users.length, 1);
    assert.equal(k.users[0]!.name, 'admin@demo');
    assert.deepEqual(Object.keys(k.users[0]!.user), ['client-certificate-data', 'client-key-data']);
    // lists not indented under their key, two-space indentation, as sigs.k8s.io/yaml writes
    assert.match(text, /^apiVersion: v1\nclusters:\n- cluster:\n {4}certificate-authority-data: [A-Za-z0-9+/=]+\n {4}server: https:\/\/10\.5\.0\.2:6443\n {2}name: demo\ncontexts:\n- context:\n {4}cluster: demo\n {4}namespace: default\n {4}user: admin@demo\n {2}name: admin@demo\ncurrent-context: admin@demo\nkind: Config\nusers:\n- name: admin@demo\n {2}user:\n {4}client-certificate-data: [A-Za-z0-9+/=]+\n {4}client-key-data: [A-Za-z0-9+/=]+\n$/);
  });

  it('issues the admin certificate from the Kubernetes CA: CN admin, O system:masters, clientAuth, one year', async () => {
    const k = parse(await adminKubeconfig(cpText, now)) as Kubeconfig;
    const ca = new X509Certificate(k8sCAPEM);
    const c = certOf(k.users[0]!.user['client-certificate-data']);
    assert.ok(c.node.checkIssued(ca));
    assert.ok(c.node.verify(ca.publicKey));
    assert.ok(verifyIssuedBy(c.node, ca, now));
    assert.equal(c.node.issuer, ca.subject);
    assert.equal(c.peculiar.subjectName.getField('CN')[0], 'admin');
    assert.deepEqual(subjectOrganizations(c.node), ['system:masters']);
    assert.deepEqual([...(c.peculiar.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.clientAuth]);
    assert.equal(c.peculiar.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    assert.equal(c.node.ca, false);
    assert.equal(new Date(c.node.validFrom).getTime(), now.getTime() - 10_000);
    assert.equal(new Date(c.node.validTo).getTime(), now.getTime() + ADMIN_CERT_DEFAULT_LIFETIME_MS);
    assert.equal(ADMIN_CERT_DEFAULT_LIFETIME_MS, 365 * 24 * 3600 * 1000);

    // the key: the CA's algorithm (ECDSA P-256 for Talos's Kubernetes CA), SEC 1 PEM, matching the certificate
    const keyPEM = b64(k.users[0]!.user['client-key-data']);
    assert.match(keyPEM, /^-----BEGIN EC PRIVATE KEY-----\n/);
    const key = parsePrivateKey(keyPEM);
    assert.equal(key.algorithm, 'ecdsa');
    assert.equal(certificateKeyAlgorithm(c.node), 'ecdsa');
    assert.ok(c.node.checkPrivateKey(key.key));
  });

  it('takes the lifetime from cluster.adminKubeconfig.certLifetime and trusts accepted CAs before the issuing one', async () => {
    const extra = await createCA('ecdsa', { organization: ['old'] });
    const text = editV1Alpha1(cpText, (v) => {
      v.cluster!.adminKubeconfig = { certLifetime: '2h30m' };
      v.cluster!.acceptedCAs = [{ crt: toBase64Pair(extra).crt }];
      v.cluster!.clusterName = 'prod';
      v.cluster!.controlPlane = { endpoint: 'https://k8s.example.com:443' };
    });
    const k = parse(await adminKubeconfig(text, now)) as Kubeconfig;
    const c = certOf(k.users[0]!.user['client-certificate-data']);
    assert.equal(new Date(c.node.validTo).getTime(), now.getTime() + 9_000_000);
    assert.equal(b64(k.clusters[0]!.cluster['certificate-authority-data']), extra.certPEM + k8sCAPEM);
    assert.equal(k.clusters[0]!.cluster.server, 'https://k8s.example.com:443');
    assert.equal(k['current-context'], 'admin@prod');
    assert.equal(k.users[0]!.name, 'admin@prod');
    assert.equal(k.contexts[0]!.context.cluster, 'prod');
  });

  for (const alg of ['ed25519', 'rsa'] as const) {
    it(`signs with a ${alg} Kubernetes CA, the client key of the same algorithm`, async () => {
      const ca = await createCA(alg, { organization: ['kubernetes'], rsaBits: 2048 });
      const text = editV1Alpha1(cpText, (v) => {
        v.cluster!.ca = toBase64Pair(ca);
      });
      const k = parse(await adminKubeconfig(text, now)) as Kubeconfig;
      const c = certOf(k.users[0]!.user['client-certificate-data']);
      assert.ok(c.node.verify(ca.cert.publicKey));
      assert.ok(c.node.checkIssued(ca.cert));
      assert.equal(certificateKeyAlgorithm(c.node), alg);
      const key = parsePrivateKey(b64(k.users[0]!.user['client-key-data']));
      assert.equal(key.algorithm, alg);
      assert.ok(c.node.checkPrivateKey(key.key));
      assert.equal(b64(k.clusters[0]!.cluster['certificate-authority-data']), ca.certPEM);
    });
  }

  it('answers Unimplemented without a config and on workers', async () => {
    await rejectsWithGrpc(adminKubeconfig(undefined), status.UNIMPLEMENTED, 'machine type is not set, cannot use kubeconfig API');
    await rejectsWithGrpc(adminKubeconfig(bundle.worker.toString()), status.UNIMPLEMENTED, 'kubeconfig is only available on control plane nodes');
    await rejectsWithGrpc(adminKubeconfig(editV1Alpha1(cpText, (v) => void (v.machine!.type = 'worker'))), 12, 'kubeconfig is only available on control plane nodes');
  });

  it('fails with Unknown when the config has no Kubernetes CA key', async () => {
    const text = editV1Alpha1(cpText, (v) => {
      v.cluster!.ca = { crt: v.cluster!.ca!.crt!, key: '' };
    });
    await assert.rejects(adminKubeconfig(text), (e: unknown) => (e as { grpcCode?: number }).grpcCode === status.UNKNOWN && /^error getting Kubernetes CA: /.test((e as Error).message));
  });

  it('packs the kubeconfig as a tar.gz with the one file kubeconfig, mode 0600', async () => {
    const yaml = await adminKubeconfig(cpText, now);
    const archive = await kubeconfigArchive(yaml);
    assert.equal(archive[0], 0x1f);
    assert.equal(archive[1], 0x8b);

    const tar = gunzipSync(archive);
    const { entries, end } = readTar(tar);
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    assert.equal(e.name, 'kubeconfig');
    assert.equal(e.mode, 0o600);
    assert.equal(e.type, '0');
    assert.equal(e.uid, 0);
    assert.equal(e.gid, 0);
    assert.equal(e.magic, 'ustar\0');
    assert.equal(e.size, Buffer.byteLength(yaml));
    assert.equal(e.content.toString('utf8'), yaml);
    // the archive ends with two zero blocks
    assert.equal(tar.length, end + 1024);
    assert.ok(tar.subarray(end).every((b) => b === 0));

    // GNU tar reads it too, and extracts the file with its mode
    const file = join(dir, 'kubeconfig.tar.gz');
    writeFileSync(file, archive);
    const listing = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listing.length, 1);
    assert.match(listing[0]!, /^-rw------- \S+ +\d+ .* kubeconfig$/);
    const out = join(dir, 'out');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', file, '-C', out]);
    assert.equal(readFileSync(join(out, 'kubeconfig'), 'utf8'), yaml);
    assert.equal(statSync(join(out, 'kubeconfig')).mode & 0o777, 0o600);
  });
});
