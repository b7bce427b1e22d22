import { Version } from '../../api/gen/machine/machine.js';
import type { CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { structuredPrinter } from '../output/format.js';

/** The server half of `version`: one block per node, as talosctl prints it. */
export async function serverVersion(ctx: CommandContext, format: 'text' | 'json' | 'yaml'): Promise<number> {
  if (format === 'text') ctx.out('Server:\n');
  const print = format === 'text' ? undefined : structuredPrinter(ctx, format);
  return withClient(
    ctx,
    async (conn) => {
      const res = await conn.client.machine.version();
      const { items, failed } = perNode(ctx, res, defaultNode(conn));
      for (const { node, value } of items) {
        if (format === 'json' && ctx.bool('json')) {
          // talosctl's --json: the message as protojson prints it, on one line
          const v = Version.fromPartial(value);
          v.metadata ??= { hostname: node, error: '', status: undefined };
          ctx.out(`${JSON.stringify(Version.toJSON(v))}\n`);
          continue;
        }
        if (print) {
          print(node, Version.toJSON(value));
          continue;
        }
        const v = value.version;
        ctx.out(`\tNODE:        ${node}\n`);
        ctx.out(`\tTag:         ${v?.tag ?? ''}\n`);
        ctx.out(`\tSHA:         ${v?.sha ?? ''}\n`);
        ctx.out(`\tBuilt:       ${v?.built ?? ''}\n`);
        ctx.out(`\tGo version:  ${v?.goVersion ?? ''}\n`);
        ctx.out(`\tOS/Arch:     ${v?.os ?? ''}/${v?.arch ?? ''}\n`);
        ctx.out(`\tEnabled:     ${value.features?.rbac ? 'RBAC' : ''}\n`);
      }
      return failed ? 1 : 0;
    },
    { insecure: ctx.bool('insecure') },
  );
}
