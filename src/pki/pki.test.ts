import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CertificateAuthority,
  createCA,
  createCSR,
  decodePEM,
  fromBase64PEM,
  generatePrivateKey,
  issueCertificate,
  issueKeyPair,
  loadCA,
  parseCertificate,
  parseCSR,
  parsePrivateKey,
  PKIError,
  privateKeyToPEM,
  privateKeyToPKCS8PEM,
  publicKeyOf,
  signCSR,
  subjectOrganizations,
  toBase64Pair,
  verifyIssuedBy,
} from './index.js';

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe('pki', () => {
  let osCA: CertificateAuthority;
  let k8sCA: CertificateAuthority;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-pki-'));
    osCA = await createCA('ed25519', { organization: ['talos'] });
    k8sCA = await createCA('ecdsa', { organization: ['kubernetes'] });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the Ed25519 OS CA as Talos: self-signed, CA:TRUE, CertSign|DigitalSignature, server+client auth, 10 years', () => {
    const text = openssl('x509', '-in', file('os.crt', osCA.certPEM), '-noout', '-text');
    assert.match(text, /Signature Algorithm: ED25519/);
    assert.match(text, /Public Key Algorithm: ED25519/);
    assert.match(text, /Issuer: O ?= ?talos/);
    assert.match(text, /Subject: O ?= ?talos/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign/);
    assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    const years = (new Date(osCA.cert.validTo).getTime() - new Date(osCA.cert.validFrom).getTime()) / 3_600_000;
    assert.equal(years, 87_600);
    assert.equal(openssl('verify', '-CAfile', file('os-ca.crt', osCA.certPEM), file('os-self.crt', osCA.certPEM)).trim(), `${join(dir, 'os-self.crt')}: OK`);
  });

  it('writes the Ed25519 key under Talos label and reads it back; OpenSSL reads the PKCS#8 form', () => {
    assert.ok(osCA.keyPEM.startsWith('-----BEGIN ED25519 PRIVATE KEY-----\n'));
    const back = parsePrivateKey(osCA.keyPEM);
    assert.equal(back.algorithm, 'ed25519');
    assert.ok(osCA.cert.checkPrivateKey(back.key));
    // OpenSSL rejects Talos's label, but the body is PKCS#8 under it
    assert.throws(() => createPrivateKey(osCA.keyPEM));
    const out = openssl('pkey', '-in', file('os.key', privateKeyToPKCS8PEM(back)), '-noout', '-text');
    assert.match(out, /ED25519 Private-Key/);
  });

  it('makes ECDSA P-256 CAs with SHA-256 and SEC 1 keys', () => {
    const text = openssl('x509', '-in', file('k8s.crt', k8sCA.certPEM), '-noout', '-text');
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.match(text, /Subject: O ?= ?kubernetes/);
    assert.ok(k8sCA.keyPEM.startsWith('-----BEGIN EC PRIVATE KEY-----\n'));
    assert.match(openssl('ec', '-in', file('k8s.key', k8sCA.keyPEM), '-noout', '-text'), /ASN1 OID: prime256v1/);
  });

  it('makes a CA with an empty subject (the aggregator CA)', async () => {
    const agg = await createCA('ecdsa');
    assert.equal(agg.cert.subject ?? '', '');
    assert.match(openssl('verify', '-CAfile', file('agg.crt', agg.certPEM), file('agg2.crt', agg.certPEM)), /OK/);
  });

  it('issues an admin client certificate: roles as Organization, DigitalSignature, clientAuth only, chained to the CA', async () => {
    const admin = await issueKeyPair(osCA, { subject: { organization: ['os:admin'] }, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    assert.equal(admin.key.algorithm, 'ed25519');
    assert.deepEqual(subjectOrganizations(admin.cert), ['os:admin']);
    assert.ok(verifyIssuedBy(admin.cert, osCA.cert));
    const crt = file('admin.crt', admin.certPEM);
    assert.equal(openssl('verify', '-CAfile', file('ca.crt', osCA.certPEM), '-purpose', 'sslclient', crt).trim(), `${crt}: OK`);
    const text = openssl('x509', '-in', crt, '-noout', '-text');
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Client Authentication\n/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.doesNotMatch(text, /CA:TRUE/);
    // not a server certificate
    assert.throws(() => openssl('verify', '-CAfile', file('ca2.crt', osCA.certPEM), '-purpose', 'sslserver', crt));
  });

  it('issues server certificates with IP and DNS SANs and the requested lifetime', async () => {
    const key = await generatePrivateKey('ed25519');
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + 24 * 3_600_000);
    const c = await issueCertificate(osCA, publicKeyOf(key), { subject: { commonName: 'node-1' }, extKeyUsage: ['serverAuth'], ipAddresses: ['10.5.0.2', 'fd00::1'], dnsNames: ['node-1', 'localhost'], notBefore, notAfter });
    assert.equal(new Date(c.validTo).getTime() - new Date(c.validFrom).getTime(), 24 * 3_600_000);
    const text = openssl('x509', '-in', file('srv.crt', c.pem), '-noout', '-text');
    assert.match(text, /DNS:node-1, DNS:localhost, IP Address:10\.5\.0\.2, IP Address:FD00:0:0:0:0:0:0:1/);
    assert.match(text, /TLS Web Server Authentication\n/);
    assert.match(openssl('verify', '-CAfile', file('ca3.crt', osCA.certPEM), '-purpose', 'sslserver', file('srv2.crt', c.pem)), /OK/);
  });

  it('gives random, distinct, positive 128-bit serials', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const c = await issueCertificate(k8sCA, publicKeyOf(await generatePrivateKey('ecdsa')));
      assert.ok(c.serialNumber.length <= 34, c.serialNumber);
      serials.add(c.serialNumber);
    }
    assert.equal(serials.size, 8);
  });

  it('creates, parses and signs CSRs (ECDSA and Ed25519), keeping subject and SANs', async () => {
    for (const alg of ['ecdsa', 'ed25519'] as const) {
      const key = await generatePrivateKey(alg);
      const csrPEM = await createCSR(key, { subject: { organization: ['os:reader'] }, ipAddresses: ['10.0.0.7'], dnsNames: ['w1'] });
      const text = openssl('req', '-in', file(`${alg}.csr`, csrPEM), '-noout', '-verify', '-text');
      assert.match(text, /Subject: O ?= ?os:reader/);
      const csr = await parseCSR(csrPEM);
      assert.equal(csr.signatureValid, true);
      assert.deepEqual(csr.ipAddresses, ['10.0.0.7']);
      assert.deepEqual(csr.dnsNames, ['w1']);
      const crt = await signCSR(osCA, csrPEM, { keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
      assert.deepEqual(subjectOrganizations(crt), ['os:reader']);
      assert.ok(crt.checkPrivateKey(key.key));
      assert.match(openssl('verify', '-CAfile', file(`ca-${alg}.crt`, osCA.certPEM), file(`${alg}.crt`, crt.pem)), /OK/);
    }
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const key = await generatePrivateKey('ecdsa');
    const csrPEM = await createCSR(key, { subject: { commonName: 'x' } });
    const der = decodePEM(csrPEM)[0]!.der;
    der[der.length - 5]! ^= 0xff;
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(signCSR(osCA, bad), (e: unknown) => e instanceof PKIError && (e.code === 'BRONZE_PKI_CSR'));
  });

  it('makes an RSA-4096 key as PKCS#1 and RSA CAs signed with SHA-256', async () => {
    const rsa = await generatePrivateKey('rsa');
    assert.equal(rsa.key.asymmetricKeyDetails?.modulusLength, 4096);
    const pem = privateKeyToPEM(rsa);
    assert.ok(pem.startsWith('-----BEGIN RSA PRIVATE KEY-----\n'));
    assert.match(openssl('rsa', '-in', file('sa.key', pem), '-noout', '-text'), /Private-Key: \(4096 bit/);
    const ca = await createCA('rsa', { organization: ['x'], rsaBits: 2048 });
    assert.match(openssl('x509', '-in', file('rsa.crt', ca.certPEM), '-noout', '-text'), /Signature Algorithm: sha256WithRSAEncryption/);
  });

  it('loads a CA from base64 PEM as configs store it, and rejects mismatched pairs', () => {
    const pair = toBase64Pair(osCA);
    const ca = loadCA(pair.crt, pair.key, 'machine.ca');
    assert.equal(ca.cert.fingerprint256, osCA.cert.fingerprint256);
    assert.throws(() => loadCA(pair.crt, toBase64Pair(k8sCA).key, 'machine.ca'), { code: 'BRONZE_PKI_KEY', message: 'machine.ca: the key does not match the certificate' });
    assert.throws(() => fromBase64PEM('not base64!', 'machine.ca.crt'), { code: 'BRONZE_PKI_PEM' });
    assert.throws(() => parseCertificate('nothing here'), { code: 'BRONZE_PKI_PEM' });
    assert.throws(() => parsePrivateKey('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n'), { code: 'BRONZE_PKI_KEY' });
  });
});
