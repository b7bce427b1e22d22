import { setTimeout as delay } from 'node:timers/promises';
import { RebootRequest_Mode } from '../../api/gen/machine/machine.js';
import type { Client } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import type { Command, CommandContext } from '../command.js';
import { type Connection, defaultNode, withClient } from '../connection.js';
import { parseDuration, UsageError } from '../flags.js';

const REBOOT_MODES: Record<string, RebootRequest_Mode> = { default: RebootRequest_Mode.DEFAULT, powercycle: RebootRequest_Mode.POWERCYCLE, force: RebootRequest_Mode.FORCE };
/** how long one probe of a node waits, and the pause between probes while it is away */
const PROBE_MS = 5000;
const RETRY_MS = 1000;

/** The nodes a command acts on: `-n` (or the context's nodes), else the endpoint itself (no routing metadata). */
function targets(conn: Connection): { node: string | undefined; name: string }[] {
  return conn.nodes.length > 0 ? conn.nodes.map((n) => ({ node: n, name: n })) : [{ node: undefined, name: defaultNode(conn) }];
}

async function bootId(client: Client, node: string | undefined): Promise<string> {
  let text = '';
  for await (const d of client.machine.read({ path: '/proc/sys/kernel/random/boot_id' }, { node, timeout: PROBE_MS })) text += Buffer.from(d.bytes).toString();
  return text.trim();
}

/** Waits until `done` holds for a node, probing it until the deadline; false when the deadline passed. */
async function waitFor(done: () => Promise<boolean>, deadline: number, signal: AbortSignal): Promise<boolean> {
  while (Date.now() < deadline && !signal.aborted) {
    try {
      if (await done()) return true;
    } catch {
      // the node is away: try again
    }
    await delay(RETRY_MS, undefined, { signal }).catch(() => undefined);
  }
  return false;
}

/**
 * Runs a lifecycle action on every target at once; with `wait`, follows each node until the action is over (a new
 * boot id after a reboot; no answer after a shutdown), printing one line per node as it gets there.
 */
async function lifecycle(
  ctx: CommandContext,
  what: { verb: string; done: string },
  act: (client: Client, node: string | undefined) => Promise<string>,
  over: (client: Client, node: string | undefined, before: string) => Promise<boolean>,
  opts: { bootId?: boolean } = {},
): Promise<number> {
  const wait = ctx.bool('wait');
  const deadline = Date.now() + (ctx.duration('timeout') ?? 30 * 60_000);
  const signal = ctx.io.signal ?? new AbortController().signal;
  return withClient(ctx, async (conn) => {
    const results = await Promise.all(
      targets(conn).map(async ({ node, name }) => {
        try {
          const before = wait && opts.bootId ? await bootId(conn.client, node) : '';
          const actorId = await act(conn.client, node);
          if (!wait) return true;
          ctx.err(`${name}: ${what.verb} (actor ${actorId})\n`);
          if (!(await waitFor(() => over(conn.client, node, before), deadline, signal))) {
            ctx.err(`error: ${name}: timed out waiting for the node to be ${what.done}\n`);
            return false;
          }
          ctx.err(`${name}: ${what.done}\n`);
          return true;
        } catch (e) {
          ctx.err(`error: ${name}: error executing ${what.verb.replace(/ing$/, '')}: ${(e as Error).message}\n`);
          return false;
        }
      }),
    );
    return results.every(Boolean) ? 0 : 1;
  });
}

const waitFlags = [
  { name: 'wait', kind: 'bool' as const, description: 'wait for the operation to complete, tracking its progress', default: true },
  { name: 'timeout', kind: 'duration' as const, description: 'time to wait for the operation is complete if --debug or --wait is set', default: parseDuration('30m') },
];

export const rebootCommand: Command = {
  name: 'reboot',
  summary: 'Reboot a node',
  flags: [{ name: 'mode', short: 'm', kind: 'string', description: `select the reboot mode (${Object.keys(REBOOT_MODES).join(', ')})`, default: 'default' }, ...waitFlags],
  async run(ctx) {
    ctx.expectArgs(0);
    const modeName = ctx.string('mode') ?? 'default';
    const mode = REBOOT_MODES[modeName];
    if (mode === undefined) throw new UsageError(`invalid argument "${modeName}" for "-m, --mode" flag: possible values are ${Object.keys(REBOOT_MODES).join(', ')}`);
    return lifecycle(
      ctx,
      { verb: 'rebooting', done: 'rebooted' },
      async (client, node) => (await client.machine.reboot({ mode }, { node, timeout: 30_000 })).messages[0]?.actorId ?? '',
      // back when it answers with another boot id
      async (client, node, before) => {
        const now = await bootId(client, node);
        return now !== '' && now !== before;
      },
      { bootId: true },
    );
  },
};

export const shutdownCommand: Command = {
  name: 'shutdown',
  summary: 'Shutdown a node',
  flags: [{ name: 'force', kind: 'bool', description: 'if true, force a node to shutdown without a cordon/drain' }, ...waitFlags],
  async run(ctx) {
    ctx.expectArgs(0);
    return lifecycle(
      ctx,
      { verb: 'shutting down', done: 'shut down' },
      async (client, node) => (await client.machine.shutdown({ force: ctx.bool('force') }, { node, timeout: 30_000 })).messages[0]?.actorId ?? '',
      // gone when it no longer answers
      async (client, node) => {
        try {
          await client.machine.version({}, { node, timeout: PROBE_MS });
          return false;
        } catch (e) {
          return e instanceof RpcError;
        }
      },
    );
  },
};
