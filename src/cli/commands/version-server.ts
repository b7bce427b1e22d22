import type { CommandContext } from '../command.js';

/** The server half of `version`; it needs the client library. */
export async function serverVersion(ctx: CommandContext): Promise<number> {
  ctx.err('error: server version needs the API client (use --client for the client version)\n');
  return 1;
}
