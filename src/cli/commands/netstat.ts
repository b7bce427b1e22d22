import {
  type ConnectRecord,
  ConnectRecord_State,
  connectRecord_StateToJSON,
  connectRecord_TimerActiveToJSON,
  Netstat,
  NetstatRequest,
  NetstatRequest_Filter,
} from '../../api/gen/machine/machine.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { outputFormat, printStructured } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

/** The request talosctl builds from its flags: TCP and UDP by default, connected sockets unless -l or -a. */
export function netstatRequest(ctx: CommandContext): NetstatRequest {
  const all = ctx.bool('verbose');
  const tcp = all || ctx.bool('tcp');
  const udp = all || ctx.bool('udp');
  const udplite = all || ctx.bool('udplite');
  const raw = all || ctx.bool('raw');
  const l4 = { tcp, tcp6: tcp, udp, udp6: udp, udplite, udplite6: udplite, raw, raw6: raw };
  if (!Object.values(l4).some(Boolean)) Object.assign(l4, { tcp: true, tcp6: true, udp: true, udp6: true });
  const v4 = ctx.bool('ipv4');
  const v6 = ctx.bool('ipv6');
  if (v4 && !v6) Object.assign(l4, { tcp6: false, udp6: false, udplite6: false, raw6: false });
  if (v6 && !v4) Object.assign(l4, { tcp: false, udp: false, udplite: false, raw: false });
  return NetstatRequest.fromPartial({
    filter: ctx.bool('all') ? NetstatRequest_Filter.ALL : ctx.bool('listening') ? NetstatRequest_Filter.LISTENING : NetstatRequest_Filter.CONNECTED,
    feature: { pid: ctx.bool('programs') },
    l4proto: l4,
    netns: { hostnetwork: true, allnetns: ctx.bool('pods'), netns: [] },
  });
}

/** The rows of one node, with the columns the flags ask for, as talosctl prints them. */
function rows(ctx: CommandContext, node: string, records: ConnectRecord[]): string[][] {
  return records.map((r) => {
    const row = [
      node,
      r.l4proto,
      String(r.rxqueue),
      String(r.txqueue),
      `${r.localip}:${r.localport}`,
      `${r.remoteip}:${r.remoteport === 0 ? '*' : r.remoteport}`,
      r.state === ConnectRecord_State.CLOSE ? '' : connectRecord_StateToJSON(r.state),
    ];
    if (ctx.bool('extend')) row.push(String(r.uid), String(r.inode));
    if (ctx.bool('programs')) row.push(r.process && r.process.pid !== 0 ? `${r.process.pid}/${r.process.name}` : '-');
    if (ctx.bool('pods')) row.push('-');
    if (ctx.bool('timers')) row.push(`${connectRecord_TimerActiveToJSON(r.tr).toLowerCase()} (${(Number(r.timerwhen) / 100).toFixed(2)}/${r.retrnsmt}/${r.timeout})`);
    return row;
  });
}

function header(ctx: CommandContext): string[] {
  const h = ['NODE', 'Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State'];
  if (ctx.bool('extend')) h.push('Uid', 'Inode');
  if (ctx.bool('programs')) h.push('PID/Program name');
  if (ctx.bool('pods')) h.push('Pod');
  if (ctx.bool('timers')) h.push('Timer');
  return h;
}

export const netstatCommand: Command = {
  name: 'netstat',
  aliases: ['ss'],
  summary: 'Show network connections and sockets',
  flags: [
    { name: 'verbose', short: 'v', kind: 'bool', description: 'display sockets of all supported transport protocols' },
    { name: 'extend', short: 'x', kind: 'bool', description: 'show detailed socket information' },
    { name: 'programs', short: 'p', kind: 'bool', description: 'show process using socket' },
    // talosctl's -o is --timers here; machine-readable output is --output without a shorthand
    { name: 'timers', short: 'o', kind: 'bool', description: 'display timers' },
    { name: 'listening', short: 'l', kind: 'bool', description: 'display listening server sockets' },
    { name: 'all', short: 'a', kind: 'bool', description: 'display all sockets states (default: connected)' },
    { name: 'pods', short: 'k', kind: 'bool', description: 'show sockets used by Kubernetes pods' },
    { name: 'tcp', short: 't', kind: 'bool', description: 'display only TCP sockets' },
    { name: 'udp', short: 'u', kind: 'bool', description: 'display only UDP sockets' },
    { name: 'udplite', short: 'U', kind: 'bool', description: 'display only UDPLite sockets' },
    { name: 'raw', short: 'w', kind: 'bool', description: 'display only RAW sockets' },
    { name: 'ipv4', short: '4', kind: 'bool', description: 'display only ipv4 sockets' },
    { name: 'ipv6', short: '6', kind: 'bool', description: 'display only ipv6 sockets' },
    { name: 'output', kind: 'string', description: 'output format: table (default), json or yaml', default: 'table' },
  ],
  async run(ctx) {
    const [pod] = ctx.expectArgs(0, 1);
    if (pod !== undefined) throw new UsageError(`pod ${pod} not found: sockets of pods need the Kubernetes pods of the containerd integration`);
    const format = outputFormat(ctx);
    const req = netstatRequest(ctx);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.netstat(req, { signal: ctx.io.signal }), defaultNode(conn));
      if (format !== 'table') {
        printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: Netstat.toJSON(value) as object })));
        return failed ? 1 : 0;
      }
      const body = items.flatMap(({ node, value }) => rows(ctx, node, value.connectrecord));
      if (body.length) ctx.out(tabulate([header(ctx), ...body]));
      return failed ? 1 : 0;
    });
  },
};
