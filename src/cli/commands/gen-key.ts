import { generatePrivateKey, privateKeyToPEM } from '../../pki/keys.js';
import { resultFormat, resultOutputFlag } from '../output/format.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, printWritten, writeOutput } from './gen-files.js';

export const genKeyCommand: Command = {
  name: 'key',
  summary: 'Generates an Ed25519 private key',
  flags: [{ name: 'name', kind: 'string', description: 'the basename of the generated file' }, forceFlag, resultOutputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    resultFormat(ctx);
    const name = ctx.string('name');
    if (!name) throw new UsageError('required flag(s) "name" not set');
    const file = `${name}.key`;
    ensureWritable(ctx, [file]);
    writeOutput(file, privateKeyToPEM(await generatePrivateKey('ed25519')), 0o600);
    printWritten(ctx, [file]);
    return 0;
  },
};
