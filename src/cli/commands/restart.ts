import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { containerTarget, kubernetesFlag } from './containers.js';

export const restartCommand: Command = {
  name: 'restart',
  summary: 'Restart a process',
  usage: '<id>',
  flags: [kubernetesFlag],
  async run(ctx) {
    const [id] = ctx.expectArgs(1);
    return withClient(ctx, async (conn) => {
      const { failed } = perNode(ctx, await conn.client.machine.restart({ ...containerTarget(ctx), id }), defaultNode(conn));
      return failed ? 1 : 0;
    });
  },
};
