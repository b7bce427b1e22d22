import type { TalosconfigContext } from '../../client/talosconfig.js';
import type { Command } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig } from './config-shared.js';
import { readInput } from './gen-files.js';

const readBase64 = (path: string, what: string) => readInput(path, what).toString('base64');

export const configAddCommand: Command = {
  name: 'add',
  summary: 'Add a new context',
  usage: '<context>',
  flags: [
    { name: 'ca', kind: 'string', description: 'the path to the CA certificate' },
    { name: 'crt', kind: 'string', description: 'the path to the certificate' },
    { name: 'key', kind: 'string', description: 'the path to the key' },
    resultOutputFlag,
  ],
  async run(ctx) {
    const [name] = ctx.expectArgs(1) as [string];
    resultFormat(ctx);
    const c = await openTalosconfig(ctx, { create: true });
    const context: TalosconfigContext = { endpoints: [] };
    const ca = ctx.string('ca');
    if (ca) context.ca = readBase64(ca, 'CA');
    const crt = ctx.string('crt');
    const key = ctx.string('key');
    if (crt || key) {
      if (!crt || !key) throw new Error("if either the 'crt' or 'key' flag is specified, both are required");
      context.crt = readBase64(crt, 'certificate');
      context.key = readBase64(key, 'key');
    }
    c.config.contexts[name] = context;
    await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, context: name, added: true });
    return 0;
  },
};
