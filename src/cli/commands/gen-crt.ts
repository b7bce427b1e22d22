import { loadCA } from '../../pki/cert.js';
import { signCSR } from '../../pki/csr.js';
import { resultFormat, resultOutputFlag } from '../output/format.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, printWritten, readInput, writeOutput } from './gen-files.js';

const read = (path: string, what: string) => readInput(path, what).toString('utf8');

export const genCrtCommand: Command = {
  name: 'crt',
  summary: 'Generates an X.509 Ed25519 certificate',
  flags: [
    { name: 'name', kind: 'string', description: 'the basename of the generated file' },
    { name: 'ca', kind: 'string', description: 'path to the PEM encoded CERTIFICATE (without the .crt extension; the key is read from <ca>.key)' },
    { name: 'csr', kind: 'string', description: 'path to the PEM encoded CERTIFICATE REQUEST' },
    { name: 'hours', kind: 'int', description: 'the hours from now on which the certificate validity period ends', default: 24 },
    forceFlag,
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const missing = ['name', 'ca', 'csr'].filter((f) => !ctx.string(f));
    if (missing.length) throw new UsageError(`required flag(s) ${missing.map((m) => `"${m}"`).join(', ')} not set`);
    const caBase = ctx.string('ca')!;
    const ca = loadCA(read(`${caBase}.crt`, 'CA cert'), read(`${caBase}.key`, 'key file'), caBase);
    const hours = ctx.int('hours') ?? 24;
    if (hours <= 0) throw new UsageError(`invalid argument "${hours}" for "--hours" flag: must be positive`);
    const now = new Date();
    const crt = await signCSR(ca, read(ctx.string('csr')!, 'CSR'), { notBefore: now, notAfter: new Date(now.getTime() + hours * 3_600_000), keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    const file = `${ctx.string('name')}.crt`;
    ensureWritable(ctx, [file]);
    writeOutput(file, crt.pem, 0o600);
    printWritten(ctx, [file]);
    return 0;
  },
};
