import { FileInfo, ListRequest_Type } from '../../api/gen/machine/machine.js';
import { nodeErrorOf } from '../../client/results.js';
import type { Command } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { UsageError } from '../flags.js';
import { outputFlag, outputFormat, structuredPrinter } from '../output/format.js';
import { goFileMode, humanBytes, lsTime } from '../output/humanize.js';
import { tabulate } from '../output/tabwriter.js';

export const listCommand: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'Retrieve a directory listing',
  usage: '[path]',
  flags: [
    { name: 'long', short: 'l', kind: 'bool', description: 'display additional file details' },
    { name: 'recurse', short: 'r', kind: 'bool', description: 'recurse into subdirectories' },
    { name: 'humanize', short: 'H', kind: 'bool', description: 'humanize size and time in the output' },
    { name: 'depth', short: 'd', kind: 'int', description: 'maximum recursion depth', default: 1 },
    { name: 'type', short: 't', kind: 'list', description: 'filter by specified types: f (regular file), d (directory), l, L (symbolic link)' },
    outputFlag,
  ],
  async run(ctx) {
    const [root = '/'] = ctx.expectArgs(0, 1);
    let depth = ctx.int('depth') ?? 1;
    if (ctx.bool('recurse') && depth !== 1) throw new UsageError('only one of flags --recurse and --depth can be specified at the same time');
    if (ctx.bool('recurse')) depth = -1;
    const types: ListRequest_Type[] = [];
    for (const t of ctx.list('type').join('')) {
      if (t === 'f') types.push(ListRequest_Type.REGULAR);
      else if (t === 'd') types.push(ListRequest_Type.DIRECTORY);
      else if (t === 'l' || t === 'L') types.push(ListRequest_Type.SYMLINK);
      else throw new UsageError(`invalid file type: ${t}`);
    }
    const long = ctx.bool('long');
    const human = ctx.bool('humanize');
    const format = outputFormat(ctx);
    const print = format === 'table' ? undefined : structuredPrinter(ctx, format);
    return withClient(ctx, async (conn) => {
      const multiple = conn.nodes.length > 1;
      const rows: string[][] = [long ? ['NODE', 'MODE', 'UID', 'GID', 'SIZE(B)', 'LASTMOD', 'LABEL', 'NAME'] : ['NODE', 'NAME']];
      let failed = false;
      const stream = conn.client.machine.list({ root, recurse: depth > 1 || depth === -1, recursionDepth: depth, types, reportXattrs: long }, { signal: ctx.io.signal });
      for await (const info of stream) {
        const node = info.metadata?.hostname || defaultNode(conn);
        if (info.metadata?.error) {
          ctx.err(`error: ${nodeFailure(node, nodeErrorOf(info)!)}\n`);
          failed = true;
          continue;
        }
        if (info.error) {
          ctx.err(`error: ${node}: error reading file ${info.name}: ${info.error}\n`);
          failed = true;
          continue;
        }
        if (print) {
          print(node, FileInfo.toJSON(info));
          continue;
        }
        if (!long) {
          if (multiple) rows.push([node, info.relativeName]);
          else ctx.out(`${info.relativeName}\n`);
          continue;
        }
        const label = info.xattrs.find((x) => x.name === 'security.selinux');
        const modified = new Date(Number(info.modified) * 1000);
        rows.push([
          node,
          goFileMode(info.mode),
          String(info.uid),
          String(info.gid),
          human ? humanBytes(BigInt(info.size)) : String(info.size),
          human ? lsTime(modified) : lsTime(modified),
          label ? Buffer.from(label.data).toString().replace(/[\0\n]+$/, '') : '',
          info.link ? `${info.relativeName} -> ${info.link}` : info.relativeName,
        ]);
      }
      if (!print && (long || multiple)) ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};
