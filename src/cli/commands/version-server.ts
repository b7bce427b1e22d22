import { Version } from '../../api/gen/machine/machine.js';
import type { CommandContext } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';

/** The server half of `version`: one block per node, as talosctl prints it. */
export async function serverVersion(ctx: CommandContext): Promise<number> {
  const json = ctx.bool('json');
  if (!json) ctx.out('Server:\n');
  return withClient(
    ctx,
    async (conn) => {
      const res = await conn.client.machine.version();
      const { items, failed } = perNode(ctx, res, defaultNode(conn));
      for (const { node, value } of items) {
        if (json) {
          const v = Version.fromPartial(value);
          v.metadata ??= { hostname: node, error: '', status: undefined };
          ctx.out(`${JSON.stringify(Version.toJSON(v))}\n`);
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
