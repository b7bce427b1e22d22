import { ContainerDriver } from '../../api/gen/common/common.js';
import type { Command } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { outputFormat } from '../output/format.js';
import { printLines } from '../output/lines.js';

export const logsCommand: Command = {
  name: 'logs',
  summary: 'Retrieve logs for a service',
  usage: '<service name>',
  flags: [
    { name: 'kubernetes', short: 'k', kind: 'bool', description: 'use the k8s.io containerd namespace' },
    { name: 'follow', short: 'f', kind: 'bool', description: 'specify if the logs should be streamed' },
    { name: 'tail', kind: 'int', description: 'lines of log file to display (default is to show from the beginning)', default: -1 },
    { name: 'output', short: 'o', kind: 'string', description: 'output format: text (default), json (one object per line) or yaml', default: 'text' },
  ],
  async run(ctx) {
    const [id] = ctx.expectArgs(1);
    const format = outputFormat(ctx, ['text', 'json', 'yaml'] as const);
    const k8s = ctx.bool('kubernetes');
    return withClient(ctx, async (conn) => {
      const stream = conn.client.machine.logs(
        { namespace: k8s ? 'k8s.io' : 'system', driver: k8s ? ContainerDriver.CRI : ContainerDriver.CONTAINERD, id, follow: ctx.bool('follow'), tailLines: ctx.int('tail') ?? -1 },
        { signal: ctx.io.signal },
      );
      return (await printLines(ctx, stream, defaultNode(conn), format)) ? 1 : 0;
    });
  },
};

export const dmesgCommand: Command = {
  name: 'dmesg',
  summary: 'Retrieve kernel logs',
  flags: [
    { name: 'follow', short: 'f', kind: 'bool', description: 'specify if the kernel log should be streamed' },
    { name: 'tail', kind: 'bool', description: 'specify if only new messages should be sent (makes sense only when combined with --follow)' },
    { name: 'output', short: 'o', kind: 'string', description: 'output format: text (default), json (one object per line) or yaml', default: 'text' },
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx, ['text', 'json', 'yaml'] as const);
    return withClient(ctx, async (conn) => {
      const stream = conn.client.machine.dmesg({ follow: ctx.bool('follow'), tail: ctx.bool('tail') }, { signal: ctx.io.signal });
      return (await printLines(ctx, stream, defaultNode(conn), format)) ? 1 : 0;
    });
  },
};
