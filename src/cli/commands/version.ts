import type { Command, CommandContext } from '../command.js';
import { buildInfo } from '../../version.js';
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
  ],
  async run(ctx: CommandContext) {
    const b = buildInfo();
    if (ctx.bool('json')) {
      // as talosctl: only the answers, one JSON object per node
      if (ctx.bool('client')) {
        ctx.out(`${JSON.stringify({ client: b })}\n`);
        return 0;
      }
    } else {
      ctx.out(ctx.bool('short') ? `Client:\n\t${b.name} ${b.tag}\n` : clientVersion());
      if (ctx.bool('client')) return 0;
    }
    return serverVersion(ctx);
  },
};
