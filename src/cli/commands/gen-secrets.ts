import { readFileSync } from 'node:fs';
import { parseContract } from '../../config/generate/contract.js';
import { generateSecrets, secretsFromConfig, secretsFromKubernetesPKI, serializeSecrets } from '../../config/generate/secrets.js';
import { loadConfig } from '../../config/loader.js';
import type { Command } from '../command.js';
import { ensureWritable, forceFlag, writeOutput } from './gen-files.js';

export const genSecretsCommand: Command = {
  name: 'secrets',
  summary: 'Generates a secrets bundle file which can later be used to generate a config',
  flags: [
    { name: 'output-file', short: 'o', kind: 'string', description: 'path of the output file, or "-" for stdout', default: 'secrets.yaml' },
    { name: 'talos-version', kind: 'string', description: 'the desired Talos version to generate secrets bundle for (backwards compatibility, e.g. v0.8)' },
    { name: 'from-controlplane-config', kind: 'string', description: 'use the provided controlplane Talos machine configuration as input' },
    { name: 'from-kubernetes-pki', short: 'p', kind: 'string', description: 'use a Kubernetes PKI directory (e.g. /etc/kubernetes/pki) as input' },
    { name: 'kubernetes-bootstrap-token', short: 't', kind: 'string', description: 'use the provided bootstrap token as input' },
    forceFlag,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    const version = ctx.string('talos-version');
    const contract = version ? parseContract(version) : undefined;
    const pki = ctx.string('from-kubernetes-pki');
    const fromConfig = ctx.string('from-controlplane-config');
    let bundle;
    if (pki) bundle = await secretsFromKubernetesPKI(pki, ctx.string('kubernetes-bootstrap-token') ?? '', { contract });
    else if (fromConfig) {
      let text: string;
      try {
        text = readFileSync(fromConfig, 'utf8');
      } catch (e) {
        throw new Error(`failed to load controlplane config: ${(e as Error).message}`);
      }
      bundle = secretsFromConfig(loadConfig(text, { source: fromConfig }));
    } else bundle = await generateSecrets({ contract });
    const text = serializeSecrets(bundle);
    const out = ctx.string('output-file') ?? 'secrets.yaml';
    if (out === '-') {
      ctx.out(text);
      return 0;
    }
    ensureWritable(ctx, [out]);
    writeOutput(out, text, 0o600);
    return 0;
  },
};
