import { Time } from '../../api/gen/time/time.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { outputFlag, outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

/** A time as Go's time.Time.String() prints it in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`, zeros trimmed. */
export function goTimeString(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export const timeCommand: Command = {
  name: 'time',
  summary: 'Gets current server time',
  usage: '[--check server]',
  flags: [{ name: 'check', kind: 'string', description: 'checks server time against specified ntp server' }, outputFlag],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    const server = ctx.string('check');
    return withClient(ctx, async (conn) => {
      const res = server ? await conn.client.time.timeCheck({ server }, { signal: ctx.io.signal }) : await conn.client.time.time({}, { signal: ctx.io.signal });
      const { items, failed } = perNode(ctx, res, defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Time.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      const rows = [['NODE', 'NTP-SERVER', 'NODE-TIME', 'NTP-SERVER-TIME']];
      for (const { node, value } of items) {
        if (!value.localtime) throw new Error(`${node}: error parsing local time`);
        if (!value.remotetime) throw new Error(`${node}: error parsing remote time`);
        rows.push([node, value.server, goTimeString(value.localtime), goTimeString(value.remotetime)]);
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
