import { readFileSync } from 'node:fs';
import { formatIssue } from '../../config/errors.js';
import { loadConfig } from '../../config/loader.js';
import { assertValid, parseMode } from '../../config/validate.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Validate config',
  flags: [
    { name: 'config', short: 'c', kind: 'string', description: 'the path of the config file' },
    { name: 'mode', short: 'm', kind: 'string', description: 'the mode to validate the config for (valid values are metal, cloud, and container)' },
    { name: 'strict', kind: 'bool', description: 'treat validation warnings as errors' },
    resultOutputFlag,
  ],
  run(ctx) {
    ctx.expectArgs(0);
    const structured = resultFormat(ctx) !== undefined;
    const file = ctx.string('config');
    const modeName = ctx.string('mode');
    const missing = [!file && 'config', !modeName && 'mode'].filter(Boolean);
    if (missing.length) throw new UsageError(`required flag(s) ${missing.map((m) => `"${m}"`).join(', ')} not set`);
    let text: string;
    try {
      text = readFileSync(file!, 'utf8');
    } catch (e) {
      throw new Error(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    const cfg = loadConfig(text, { source: file });
    const mode = parseMode(modeName!);
    const warnings = assertValid(cfg, mode, { strict: ctx.bool('strict') });
    for (const w of warnings) ctx.err(`WARNING: ${formatIssue(w)}\n`);
    if (structured) printResult(ctx, undefined, { config: file!, mode: modeName!, valid: true, warnings: warnings.map((w) => formatIssue(w)) });
    else ctx.out(`${file} is valid for ${modeName} mode\n`);
    return 0;
  },
};
