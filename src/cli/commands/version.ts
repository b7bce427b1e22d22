import type { Command, CommandContext } from '../command.js';
import { buildInfo } from '../../version.js';

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
    { name: 'json', kind: 'bool', description: 'print the client version as JSON' },
  ],
  async run(ctx: CommandContext) {
    const b = buildInfo();
    if (ctx.bool('json')) {
      ctx.out(`${JSON.stringify({ client: b }, null, 2)}\n`);
      return 0;
    }
    if (ctx.bool('short')) ctx.out(`Client:\n\t${b.name} ${b.tag}\n`);
    else ctx.out(clientVersion());
    if (ctx.bool('client')) return 0;
    const { serverVersion } = await import('./version-server.js');
    return serverVersion(ctx);
  },
};
