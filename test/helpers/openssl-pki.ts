import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material made by openssl for tests that must not depend on our own PKI code. */
export interface TestPKI {
  dir: string;
  caCrt: string;
  caKey: string;
  serverCrt: string;
  serverKey: string;
  clientCrt: string;
  clientKey: string;
  /** a CA and client certificate that the server does not trust */
  foreignCaCrt: string;
  foreignClientCrt: string;
  foreignClientKey: string;
  /** issues another client certificate from the CA: roles as Organization values, `ext` overriding the extensions */
  issueClient(name: string, organizations: string[], ext?: string): { crt: string; key: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, ca: string, subj: string, ext: string): void {
  openssl(dir, ['genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

/** An Ed25519 CA, a server certificate for `sans`, and an admin client certificate, as Talos issues them. */
export function makeTestPKI(sans = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'], organization = 'os:admin'): TestPKI {
  const dir = mkdtempSync(join(tmpdir(), 'bronze-pki-'));
  for (const ca of ['ca', 'foreign-ca']) {
    openssl(dir, ['genpkey', '-algorithm', 'ed25519', '-out', `${ca}.key`]);
    openssl(dir, ['req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/O=${ca}`, '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature', '-out', `${ca}.crt`]);
  }
  issue(dir, 'server', 'ca', '/O=server', `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}\n`);
  const clientExt = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  issue(dir, 'client', 'ca', `/O=${organization}/CN=test`, clientExt);
  issue(dir, 'foreign-client', 'foreign-ca', `/O=${organization}/CN=intruder`, clientExt);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caCrt: read('ca.crt'),
    caKey: read('ca.key'),
    serverCrt: read('server.crt'),
    serverKey: read('server.key'),
    clientCrt: read('client.crt'),
    clientKey: read('client.key'),
    foreignCaCrt: read('foreign-ca.crt'),
    foreignClientCrt: read('foreign-client.crt'),
    foreignClientKey: read('foreign-client.key'),
    issueClient(name, organizations, ext) {
      issue(dir, name, 'ca', `${organizations.map((o) => `/O=${o}`).join('')}/CN=${name}`, ext ?? clientExt);
      return { crt: read(`${name}.crt`), key: read(`${name}.key`) };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
