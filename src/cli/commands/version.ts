import { stringify } from 'yaml';
import type { Command, CommandContext } from '../command.js';
import { buildInfo } from '../../version.js';
import { outputFormat } from '../output/format.js';
import { serverVersion } from './version-server.js';

function clientVersion(): string {
  const b = buildInfo();
  return [
    'Client:',
    `\tTag:         ${b.tag}`,
    `\tSHA:         ${b.sha}`,
    `\tBuilt:       ${b.built}`,
    `\tRuntime:     ${b.runtime}`,
    `\tOS/Arch:     ${b.os}/${b.arch}`,
    '',
  ].join('\n');
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Prints the version',
  flags: [
    { name: 'client', kind: 'bool', description: 'print client version only' },
    { name: 'short', kind: 'bool', description: 'print the short version' },
    { name: 'insecure', short: 'i', kind: 'bool', description: 'use Talos maintenance mode API' },
    { name: 'json', kind: 'bool', description: 'print the answers as JSON, one object per node', hidden: true },
    { name: 'output', short: 'o', kind: 'string', description: 'output format: text (default), json or yaml', default: 'text' },
  ],
  async run(ctx: CommandContext) {
    const b = buildInfo();
    const format = ctx.bool('json') ? 'json' : outputFormat(ctx, ['text', 'json', 'yaml'] as const);
    if (format !== 'text') {
      // as talosctl --json: only the answers, one object per node
      if (ctx.bool('client')) {
        ctx.out(format === 'json' ? `${JSON.stringify({ client: b })}\n` : stringify({ client: b }));
        return 0;
      }
    } else {
      ctx.out(ctx.bool('short') ? `Client:\n\t${b.name} ${b.tag}\n` : clientVersion());
      if (ctx.bool('client')) return 0;
    }
    return serverVersion(ctx, format);
  },
};
