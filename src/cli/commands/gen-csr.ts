import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isIP } from 'node:net';
import { allRoles } from '../../api/roles.js';
import { createCSR } from '../../pki/csr.js';
import { parsePrivateKey } from '../../pki/keys.js';
import { resultFormat, resultOutputFlag } from '../output/format.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, printWritten, writeOutput } from './gen-files.js';

export const genCSRCommand: Command = {
  name: 'csr',
  summary: 'Generates a CSR using an Ed25519 private key',
  flags: [
    { name: 'key', kind: 'string', description: 'path to the PEM encoded EC or RSA PRIVATE KEY' },
    { name: 'ip', kind: 'string', description: 'generate the certificate for this IP address' },
    { name: 'roles', kind: 'list', description: 'roles', default: ['os:admin'] },
    forceFlag,
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const missing = ['key', 'ip'].filter((f) => !ctx.string(f));
    if (missing.length) throw new UsageError(`required flag(s) ${missing.map((m) => `"${m}"`).join(', ')} not set`);
    const keyPath = ctx.string('key')!;
    const ip = ctx.string('ip')!;
    if (!isIP(ip)) throw new Error(`invalid IP: ${ip}`);
    const roles = ctx.list('roles');
    const unknown = roles.filter((r) => !(allRoles as readonly string[]).includes(r));
    if (unknown.length) throw new Error(`unknown roles: ${unknown.join(', ')}`);
    let text: string;
    try {
      text = readFileSync(keyPath, 'utf8');
    } catch (e) {
      throw new Error(`error reading key: ${(e as Error).message}`);
    }
    const key = parsePrivateKey(text, keyPath);
    const file = `${keyPath.slice(0, keyPath.length - extname(keyPath).length)}.csr`;
    ensureWritable(ctx, [file]);
    writeOutput(file, await createCSR(key, { subject: { organization: [...new Set(roles)].sort() }, ipAddresses: [ip] }), 0o600);
    printWritten(ctx, [file]);
    return 0;
  },
};
