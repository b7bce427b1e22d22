import { ServiceList, type ServiceInfo } from '../../api/gen/machine/machine.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { goDuration } from '../../config/decode.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

const health = (s: ServiceInfo) => (s.health?.unknown ? '?' : s.health?.healthy ? 'OK' : 'Fail');
const lastEvent = (s: ServiceInfo) => s.events?.events.at(-1);

async function list(ctx: CommandContext): Promise<number> {
  const format = outputFormat(ctx);
  return withClient(ctx, async (conn) => {
    const { items, failed } = perNode(ctx, await conn.client.machine.serviceList(), defaultNode(conn));
    if (format !== 'table') {
      printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: ServiceList.toJSON(value) as object })));
      return failed ? 1 : 0;
    }
    const rows = [['NODE', 'SERVICE', 'STATE', 'HEALTH', 'LAST CHANGE', 'LAST EVENT']];
    for (const { node, value } of items) {
      for (const s of value.services) {
        const ev = lastEvent(s);
        rows.push([node, s.id, s.state, health(s), ev?.ts ? `${goDuration(Date.now() - ev.ts.getTime())} ago` : ' ago', ev?.msg ?? '<none>']);
      }
    }
    ctx.out(tabulate(rows));
    return failed ? 1 : 0;
  });
}

async function status(ctx: CommandContext, id: string): Promise<number> {
  const format = outputFormat(ctx);
  return withClient(ctx, async (conn) => {
    const { items, failed } = perNode(ctx, await conn.client.machine.serviceList(), defaultNode(conn));
    const found = items.flatMap(({ node, value }) => value.services.filter((s) => s.id === id).map((s) => ({ node, s })));
    if (found.length === 0) throw new Error(`service "${id}" is not registered on any nodes`);
    if (format !== 'table') {
      printStructured(ctx, format, found.map(({ node, s }) => ({ node, value: JSON.parse(JSON.stringify(s)) as object })));
      return failed ? 1 : 0;
    }
    const rows: string[][] = [];
    for (const { node, s } of found) {
      rows.push(['NODE', node], ['ID', s.id], ['STATE', s.state], ['HEALTH', health(s)]);
      if (s.health?.lastMessage) rows.push(['LAST HEALTH MESSAGE', s.health.lastMessage]);
      let label = 'EVENTS';
      for (const ev of [...(s.events?.events ?? [])].reverse()) {
        rows.push([label, `[${ev.state}]: ${ev.msg} (${goDuration(Date.now() - (ev.ts?.getTime() ?? Date.now()))} ago)`]);
        label = '';
      }
    }
    ctx.out(tabulate(rows));
    return failed ? 1 : 0;
  });
}

async function action(ctx: CommandContext, id: string, verb: 'start' | 'stop' | 'restart'): Promise<number> {
  const format = outputFormat(ctx);
  return withClient(ctx, async (conn) => {
    const call = { start: conn.client.machine.serviceStart, stop: conn.client.machine.serviceStop, restart: conn.client.machine.serviceRestart }[verb];
    const { items, failed } = perNode(ctx, await call({ id }), defaultNode(conn));
    if (format !== 'table') printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: { id, action: verb, response: value.resp } })));
    else ctx.out(tabulate([['NODE', 'RESPONSE'], ...items.map(({ node, value }) => [node, value.resp])]));
    return failed ? 1 : 0;
  });
}

export const serviceCommand: Command = {
  name: 'service',
  aliases: ['services'],
  summary: 'Retrieve the state of a service (or all services), control service state',
  usage: '[<id> [start|stop|restart|status]]',
  flags: [outputFlag],
  run(ctx) {
    const [id, verb = 'status'] = ctx.expectArgs(0, 2);
    if (id === undefined) return list(ctx);
    if (verb === 'status') return status(ctx, id);
    if (verb === 'start' || verb === 'stop' || verb === 'restart') return action(ctx, id, verb);
    throw new UsageError(`unknown action "${verb}": use start, stop, restart or status`);
  },
};
