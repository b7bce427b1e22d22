import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import pino from 'pino';
import { SecurityServiceClient } from '../../src/api/gen/security/security.js';
import { Trustd } from '../../src/trustd/server.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';

describe('trustd', () => {
  let pki: TestPKI;
  let trustd: Trustd;
  let client: InstanceType<typeof SecurityServiceClient>;
  /** trustd's log records */
  const logged: { msg?: string; subject?: unknown }[] = [];
  const token = 'abcdef.0123456789abcdef';

  /** A CSR made by openssl with the given subject and extensions. */
  function csr(name: string, subj: string, ext = '', algorithm: string[] = ['-algorithm', 'ed25519']): Buffer {
    const dir = pki.dir;
    execFileSync('openssl', ['genpkey', ...algorithm, '-out', join(dir, `${name}.key`)]);
    const args = ['req', '-new', '-key', join(dir, `${name}.key`), '-subj', subj, '-out', join(dir, `${name}.csr`)];
    if (ext) args.push('-addext', ext);
    execFileSync('openssl', args);
    return readFileSync(join(dir, `${name}.csr`));
  }

  before(async () => {
    pki = makeTestPKI(['IP:127.0.0.1']);
    trustd = new Trustd({
      listen: '127.0.0.1:0',
      tls: { cert: pki.serverCrt, key: pki.serverKey },
      logger: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg?: string; subject?: unknown }) }),
      secrets: {
        token: () => token,
        acceptedCAs: () => pki.caCrt,
        // signing with the OS CA is the PKI's job; here openssl signs, keeping the CSR's subject and SANs
        async issueServerCertificate(req) {
          const p = join(pki.dir, 'req.csr');
          writeFileSync(p, req.pem);
          writeFileSync(join(pki.dir, 'srv.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
          return execFileSync('openssl', ['x509', '-req', '-in', p, '-CA', join(pki.dir, 'ca.crt'), '-CAkey', join(pki.dir, 'ca.key'), '-days', '1', '-copy_extensions', 'copy', '-extfile', join(pki.dir, 'srv.ext')], { encoding: 'utf8' });
        },
      },
    });
    const port = await trustd.start();
    // joining nodes verify trustd against the accepted CAs and present no client certificate
    client = new SecurityServiceClient(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(pki.caCrt)));
  });

  after(async () => {
    client.close();
    await trustd.stop(1000);
    pki.cleanup();
  });

  const call = (req: Buffer, tok?: string) =>
    new Promise<{ ca: Uint8Array; crt: Uint8Array }>((resolve, reject) => {
      const md = new Metadata();
      if (tok !== undefined) md.set('token', tok);
      client.certificate({ csr: req }, md, (err, res) => (err ? reject(err) : resolve(res)));
    });

  it('signs a server certificate for a token holder and returns the accepted CAs', async () => {
    const res = await call(csr('worker', '/CN=worker-1', 'subjectAltName=IP:127.0.0.5,DNS:worker-1'), token);
    assert.equal(Buffer.from(res.ca).toString(), pki.caCrt);
    const crtPath = join(pki.dir, 'signed.crt');
    writeFileSync(crtPath, res.crt);
    execFileSync('openssl', ['verify', '-CAfile', join(pki.dir, 'ca.crt'), crtPath]);
    const text = execFileSync('openssl', ['x509', '-in', crtPath, '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /TLS Web Server Authentication/);
    assert.doesNotMatch(text, /TLS Web Client Authentication/);
    assert.match(text, /IP Address:127\.0\.0\.5/);
    // the log names whom it signed for, as an RFC 4514 subject
    assert.ok(logged.some((r) => r.msg === 'signed a server certificate' && r.subject === 'CN=worker-1'), JSON.stringify(logged));
  });

  it('signs for ECDSA P-256 and RSA keys too', async () => {
    for (const [name, algorithm] of [['ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']], ['rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']]] as const) {
      const res = await call(csr(name, `/CN=${name}-node`, 'subjectAltName=DNS:node,IP:fd00::5', [...algorithm]), token);
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: res.crt, encoding: 'utf8' });
      assert.match(text, new RegExp(`Subject: CN ?= ?${name}-node`));
      assert.match(text, /IP Address:FD00:0:0:0:0:0:0:5/i);
    }
  });

  it('refuses callers without the right token', async () => {
    const req = csr('w2', '/CN=worker-2');
    await assert.rejects(call(req), (e: { code: number; details: string }) => e.code === status.UNAUTHENTICATED && e.details === 'missing token');
    await assert.rejects(call(req, 'wrong.token'), (e: { code: number; details: string }) => e.code === status.UNAUTHENTICATED && e.details === 'invalid token');
  });

  it('refuses CSRs that ask for client authentication or carry an Organization', async () => {
    await assert.rejects(call(csr('c1', '/CN=evil', 'extendedKeyUsage=clientAuth'), token), (e: { code: number; details: string }) => e.code === status.PERMISSION_DENIED && /client authentication/.test(e.details));
    await assert.rejects(call(csr('c2', '/O=os:admin/CN=evil'), token), (e: { code: number; details: string }) => e.code === status.PERMISSION_DENIED && /Organization/.test(e.details));
  });

  it('refuses a client authentication usage among others, and an Organization in any position', async () => {
    await assert.rejects(call(csr('c3', '/CN=evil', 'extendedKeyUsage=serverAuth,clientAuth'), token), (e: { code: number; details: string }) => e.code === status.PERMISSION_DENIED && /client authentication/.test(e.details));
    await assert.rejects(call(csr('c4', '/CN=evil/OU=x/O=os:reader'), token), (e: { code: number; details: string }) => e.code === status.PERMISSION_DENIED && /Organization/.test(e.details));
  });

  it('refuses what is not a CSR, a malformed one, and one whose signature does not verify', async () => {
    const invalid = (details: RegExp) => (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && details.test(e.details);
    await assert.rejects(call(Buffer.from('hello'), token), invalid(/^failed to decode CSR$/));
    const good = csr('m1', '/CN=m1');
    const der = Buffer.from(good.toString().replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const pem = (b: Buffer) => Buffer.from(`-----BEGIN CERTIFICATE REQUEST-----\n${b.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    await assert.rejects(call(pem(der.subarray(0, der.length - 10)), token), invalid(/^failed to parse CSR: truncated DER at byte 0/));
    const bad = Buffer.from(der);
    bad[bad.length - 1]! ^= 0xff;
    await assert.rejects(call(pem(bad), token), invalid(/^CSR signature does not verify$/));
  });
});
