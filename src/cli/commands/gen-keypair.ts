import { isIP } from 'node:net';
import { createCA } from '../../pki/cert.js';
import { resultFormat, resultOutputFlag } from '../output/format.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, printWritten, writeOutput } from './gen-files.js';

export const genKeypairCommand: Command = {
  name: 'keypair',
  summary: 'Generates an X.509 Ed25519 key pair',
  flags: [
    { name: 'ip', kind: 'string', description: 'generate the certificate for this IP address' },
    { name: 'organization', kind: 'string', description: 'X.509 distinguished name for the Organization' },
    forceFlag,
    resultOutputFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const org = ctx.string('organization');
    if (!org) throw new UsageError('required flag(s) "organization" not set');
    const ip = ctx.string('ip');
    if (ip && !isIP(ip)) throw new Error(`invalid IP: ${ip}`);
    const files = [`${org}.crt`, `${org}.key`];
    ensureWritable(ctx, files);
    const ca = await createCA('ed25519', { organization: [org], ipAddresses: ip ? [ip] : [] });
    writeOutput(files[0]!, ca.certPEM, 0o600);
    writeOutput(files[1]!, ca.keyPEM, 0o600);
    printWritten(ctx, files);
    return 0;
  },
};
