import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientOptionsFromContext } from '../../client/from-talosconfig.js';
import { parseTalosconfig, resolveContext, serializeTalosconfig } from '../../client/talosconfig.js';
import { channelCredentials } from '../../client/tls.js';
import { parseCertificate, subjectOrganizations, verifyIssuedBy } from '../../pki/cert.js';
import { parsePrivateKey } from '../../pki/keys.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { loadConfig } from '../loader.js';
import { loadPatches } from '../patch/load.js';
import { applyPatches } from '../patch/apply.js';
import { upstreamAvailable, upstreamFile } from '../testing.js';
import { validateConfig } from '../validate.js';
import { DEFAULT_KUBERNETES_VERSION, generateBundle, generateConfig, resolveInput, type ConfigBundle } from './config.js';
import { parseContract } from './contract.js';
import { completeSecrets, generateSecrets, parseSecrets, secretsFromConfig, serializeSecrets, TOKEN_RE, type SecretsBundle } from './secrets.js';

let dir: string;
let secrets: SecretsBundle;
let bundle: ConfigBundle;
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe('gen secrets and gen config', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-gen-'));
    secrets = await generateSecrets();
    bundle = await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443', secrets, installDisk: '/dev/vda', installImage: 'ghcr.io/siderolabs/installer:v1.13.9' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a secrets bundle with Talos tokens, ids and key algorithms', () => {
    assert.match(secrets.trustdinfo.token, TOKEN_RE);
    assert.match(secrets.secrets.bootstraptoken, TOKEN_RE);
    assert.equal(Buffer.from(secrets.cluster.id, 'base64url').length, 32);
    assert.match(secrets.cluster.id, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(Buffer.from(secrets.cluster.secret, 'base64').length, 32);
    assert.equal(Buffer.from(secrets.secrets.secretboxencryptionsecret!, 'base64').length, 32);
    assert.equal(secrets.secrets.aescbcencryptionsecret, undefined);
    const key = (b64: string) => parsePrivateKey(fromBase64PEM(b64, 'key'));
    assert.equal(key(secrets.certs.os.key).algorithm, 'ed25519');
    assert.ok(fromBase64PEM(secrets.certs.os.key, 'os').startsWith('-----BEGIN ED25519 PRIVATE KEY-----'));
    for (const ca of ['k8s', 'etcd', 'k8saggregator'] as const) {
      assert.equal(key(secrets.certs[ca].key).algorithm, 'ecdsa');
      assert.ok(fromBase64PEM(secrets.certs[ca].key, ca).startsWith('-----BEGIN EC PRIVATE KEY-----'));
    }
    const sa = key(secrets.certs.k8sserviceaccount.key);
    assert.equal(sa.algorithm, 'rsa');
    assert.equal(sa.key.asymmetricKeyDetails?.modulusLength, 4096);
    assert.deepEqual(subjectOrganizations(parseCertificate(fromBase64PEM(secrets.certs.os.crt, 'os'))), ['talos']);
    assert.deepEqual(subjectOrganizations(parseCertificate(fromBase64PEM(secrets.certs.k8s.crt, 'k8s'))), ['kubernetes']);
    assert.deepEqual(subjectOrganizations(parseCertificate(fromBase64PEM(secrets.certs.etcd.crt, 'etcd'))), ['etcd']);
    assert.equal(parseCertificate(fromBase64PEM(secrets.certs.k8saggregator.crt, 'agg')).subject ?? '', '');
  });

  it('writes secrets.yaml in talosctl layout and reads it back', () => {
    const text = serializeSecrets(secrets);
    assert.deepEqual(
      text.split('\n').filter((l) => /^\S|^ {4}\S/.test(l)).map((l) => l.split(':')[0]),
      ['cluster', '    id', '    secret', 'secrets', '    bootstraptoken', '    secretboxencryptionsecret', 'trustdinfo', '    token', 'certs', '    etcd', '    k8s', '    k8saggregator', '    k8sserviceaccount', '    os'],
    );
    assert.deepEqual(parseSecrets(text), secrets);
    assert.throws(() => parseSecrets(text.replace(/\n    token: .*/, '\n    token: ""')), { code: 'BRONZE_CONFIG_SECRETS', message: /trustdinfo.token is required/ });
    assert.throws(() => parseSecrets(text.replace(/(k8s:\n {8}crt: )\S+/, '$1AAAA')), /certs.k8s is invalid/);
  });

  it('uses AES-CBC and an ECDSA service account key for old contracts', async () => {
    const old = await completeSecrets({ certs: { ...secrets.certs, k8sserviceaccount: undefined } }, { contract: parseContract('v1.2') });
    assert.ok(old.secrets.aescbcencryptionsecret);
    assert.equal(old.secrets.secretboxencryptionsecret, undefined);
    assert.equal(parsePrivateKey(fromBase64PEM(old.certs.k8sserviceaccount.key, 'sa')).algorithm, 'ecdsa');
  });

  it('generates the v1.13 layout: one v1alpha1 document and a HostnameConfig, valid for metal, cloud and container', () => {
    for (const cfg of [bundle.controlplane, bundle.worker]) {
      assert.deepEqual(cfg.documents.map((d) => d.id), ['v1alpha1', 'HostnameConfig']);
      assert.deepEqual(cfg.find('HostnameConfig')!.value, { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' });
      for (const mode of ['metal', 'cloud', 'container'] as const) assert.deepEqual(validateConfig(cfg, mode), { errors: [], warnings: [] }, mode);
    }
    const cp = bundle.controlplane.v1alpha1!;
    assert.equal(cp.machine!.type, 'controlplane');
    assert.equal(cp.machine!.kubelet!.image, `ghcr.io/siderolabs/kubelet:v${DEFAULT_KUBERNETES_VERSION}`);
    assert.equal(cp.cluster!.apiServer!.image, `registry.k8s.io/kube-apiserver:v${DEFAULT_KUBERNETES_VERSION}`);
    assert.deepEqual(cp.machine!.install, { disk: '/dev/vda', image: 'ghcr.io/siderolabs/installer:v1.13.9', wipe: false, grubUseUKICmdline: true });
    const w = bundle.worker.v1alpha1!;
    assert.equal(w.machine!.ca!.key, '');
    assert.equal(w.cluster!.ca!.key, '');
    assert.equal(w.cluster!.etcd, undefined);
    assert.match(bundle.controlplane.encode(), /^version: v1alpha1\ndebug: false\npersist: true\nmachine:\n {4}type: controlplane\n {4}token: /);
  });

  it('writes documentation comments and examples that load back to the same config', () => {
    for (const cfg of [bundle.controlplane, bundle.worker]) {
      const text = cfg.encode({ docs: true, examples: true });
      assert.match(text, /type: (controlplane|worker) # the role of the machine in the cluster\n/);
      assert.match(text, /\n {8}# # find the install disk by its attributes/);
      assert.deepEqual(loadConfig(text).documents.map((d) => d.value), cfg.documents.map((d) => d.value));
    }
  });

  it('writes a talosconfig that the client library loads, with an admin certificate chained to machine.ca', () => {
    const tc = parseTalosconfig(serializeTalosconfig(bundle.talosconfig));
    assert.equal(tc.context, 'demo');
    const ctx = resolveContext(tc);
    assert.deepEqual(ctx.endpoints, []);
    assert.equal(ctx.ca, bundle.controlplane.v1alpha1!.machine!.ca!.crt);
    const opts = clientOptionsFromContext(ctx, { endpoints: ['127.0.0.1'] });
    assert.ok(channelCredentials(opts.tls));
    const crt = new X509Certificate(String(opts.tls.crt));
    const ca = new X509Certificate(fromBase64PEM(bundle.controlplane.v1alpha1!.machine!.ca!.crt!, 'machine.ca.crt'));
    assert.ok(verifyIssuedBy(crt, ca));
    assert.deepEqual(subjectOrganizations(crt), ['os:admin']);
    assert.ok(fromBase64PEM(ctx.key!, 'key').startsWith('-----BEGIN ED25519 PRIVATE KEY-----'));
    const days = (new Date(crt.validTo).getTime() - new Date(crt.validFrom).getTime()) / 86_400_000;
    assert.equal(days, 365);
    writeFileSync(join(dir, 'ca.crt'), fromBase64PEM(bundle.controlplane.v1alpha1!.machine!.ca!.crt!, 'ca'));
    writeFileSync(join(dir, 'admin.crt'), String(opts.tls.crt));
    assert.equal(openssl('verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', join(dir, 'admin.crt')).trim(), `${join(dir, 'admin.crt')}: OK`);
    const text = openssl('x509', '-in', join(dir, 'admin.crt'), '-noout', '-text');
    assert.match(text, /Signature Algorithm: ED25519/);
    assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Client Authentication\n/);
    assert.match(text, /Subject: O ?= ?os:admin/);
  });

  it('recovers the secrets of a control plane config', () => {
    assert.deepEqual(secretsFromConfig(bundle.controlplane), secrets);
  });

  it('applies patches to all types, control plane only and worker only', async () => {
    const b = await generateBundle(
      { clusterName: 'p', endpoint: 'https://1.2.3.4:6443', secrets },
      { all: loadPatches(['machine:\n  sysctls:\n    a: "1"\n']), controlPlane: loadPatches(['cluster:\n  allowSchedulingOnControlPlanes: true\n']), worker: loadPatches(['machine:\n  nodeLabels:\n    role: w\n']) },
    );
    assert.deepEqual(b.controlplane.v1alpha1!.machine!.sysctls, { a: '1' });
    assert.deepEqual(b.worker.v1alpha1!.machine!.sysctls, { a: '1' });
    assert.equal(b.controlplane.v1alpha1!.cluster!.allowSchedulingOnControlPlanes, true);
    assert.equal(b.worker.v1alpha1!.cluster!.allowSchedulingOnControlPlanes, undefined);
    assert.deepEqual(b.worker.v1alpha1!.machine!.nodeLabels, { role: 'w' });
    assert.equal(b.controlplane.v1alpha1!.machine!.nodeLabels!.role, undefined);
  });

  it('puts KubeSpan in its own document and registry mirrors in RegistryMirrorConfig documents', async () => {
    const input = await resolveInput({ clusterName: 'k', endpoint: 'https://1.2.3.4:6443', secrets, kubeSpan: true, registryMirrors: { 'ghcr.io': ['https://m.example'], 'docker.io': ['https://d.example'] } });
    const cfg = generateConfig(input, 'worker');
    assert.deepEqual(cfg.documents.map((d) => d.id), ['v1alpha1', 'RegistryMirrorConfig/docker.io', 'RegistryMirrorConfig/ghcr.io', 'HostnameConfig', 'KubeSpanConfig']);
    const old = generateConfig({ ...input, contract: parseContract('v1.11') }, 'worker');
    assert.deepEqual(old.documents.map((d) => d.id), ['v1alpha1']);
    assert.deepEqual(old.v1alpha1!.machine!.network, { kubespan: { enabled: true } });
    assert.equal(old.v1alpha1!.machine!.features!.stableHostname, true);
    assert.deepEqual(old.v1alpha1!.machine!.registries!.mirrors!['ghcr.io'], { endpoints: ['https://m.example'] });
  });

  it('matches talosctl v1.13 output byte for byte for every contract from v1.3 (Talos stability test data)', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, async () => {
    const td = (p: string) => upstreamFile(`pkg/machinery/config/types/v1alpha1/testdata/stability/${p}`)!;
    const fixed = parseSecrets(td('secrets.yaml'));
    const patches = loadPatches([td('patch.yaml')]);
    let compared = 0;
    for (const v of ['1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '1.10', '1.11', '1.12', '1.13']) {
      const base = { clusterName: 'base', endpoint: 'https://base:6443', kubernetesVersion: '1.28.0', secrets: fixed, contract: parseContract(v) };
      const overrides = { ...base, additionalSANs: ['foo', 'bar'], allowSchedulingOnControlPlanes: true, dnsDomain: 'example.com', installDisk: '/dev/vda', installExtraKernelArgs: ['foo=bar', 'bar=baz'], localAPIServerPort: 5443, sysctls: { foo: 'bar' }, cni: { name: 'custom', urls: ['https://example.com/cni.yaml'] }, registryMirrors: { 'ghcr.io': ['https://ghcr.io.my-mirror.com'] } };
      for (const [flavor, input] of [['base', base], ['overrides', overrides]] as const) {
        const resolved = await resolveInput(input);
        for (const t of ['controlplane', 'worker'] as const) {
          let cfg = generateConfig(resolved, t);
          if (flavor === 'overrides') cfg = applyPatches(cfg, patches);
          assert.equal(cfg.encode(), td(`v${v}/${flavor}-${t}.yaml`), `v${v} ${flavor} ${t}`);
          compared++;
        }
      }
    }
    assert.equal(compared, 44);
  });
});
