import { createHash } from 'node:crypto';
import { createCA } from '../../pki/cert.js';
import { resultFormat, resultOutputFlag } from '../output/format.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, printWritten, writeOutput } from './gen-files.js';

/** `sha256:<hex>` of the certificate's SubjectPublicKeyInfo (the form of kubeadm's CA cert hashes). */
export function spkiHash(publicKeyDER: Buffer): string {
  return `sha256:${createHash('sha256').update(publicKeyDER).digest('hex')}`;
}

export const genCACommand: Command = {
  name: 'ca',
  summary: 'Generates a self-signed X.509 certificate authority',
  flags: [
    { name: 'organization', kind: 'string', description: 'X.509 distinguished name for the Organization' },
    { name: 'hours', kind: 'int', description: 'the hours from now on which the certificate validity period ends', default: 87600 },
    { name: 'rsa', kind: 'bool', description: 'generate in RSA format' },
    forceFlag,
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const org = ctx.string('organization');
    if (!org) throw new UsageError('required flag(s) "organization" not set');
    const hours = ctx.int('hours') ?? 87600;
    if (hours <= 0) throw new UsageError(`invalid argument "${hours}" for "--hours" flag: must be positive`);
    const files = [`${org}.crt`, `${org}.sha256`, `${org}.key`];
    ensureWritable(ctx, files);
    const now = new Date();
    const ca = await createCA(ctx.bool('rsa') ? 'rsa' : 'ed25519', { organization: [org], notBefore: now, notAfter: new Date(now.getTime() + hours * 3_600_000) });
    writeOutput(files[0]!, ca.certPEM, 0o600);
    writeOutput(files[1]!, spkiHash(ca.cert.publicKey.export({ format: 'der', type: 'spki' })), 0o600);
    writeOutput(files[2]!, ca.keyPEM, 0o600);
    printWritten(ctx, files);
    return 0;
  },
};
