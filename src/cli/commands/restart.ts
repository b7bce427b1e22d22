import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { containerTarget, kubernetesFlag } from './containers.js';

export const restartCommand: Command = {
  name: 'restart',
  summary: 'Restart a process',
  usage: '<id>',
  flags: [kubernetesFlag, resultOutputFlag],
  async run(ctx) {
    const [id] = ctx.expectArgs(1);
    resultFormat(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.restart({ ...containerTarget(ctx), id }), defaultNode(conn));
      for (const { node } of items) printResult(ctx, node, { id, restarted: true });
      return failed ? 1 : 0;
    });
  },
};
