import { setTimeout as delay } from 'node:timers/promises';
import { RebootRequest_Mode, ResetRequest_WipeMode } from '../../api/gen/machine/machine.js';
import { Client as ApiClient } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import type { Command, CommandContext } from '../command.js';
import { type Connection, defaultNode, withClient } from '../connection.js';
import { parseDuration, UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

const REBOOT_MODES: Record<string, RebootRequest_Mode> = { default: RebootRequest_Mode.DEFAULT, powercycle: RebootRequest_Mode.POWERCYCLE, force: RebootRequest_Mode.FORCE };
/** how long one probe of a node waits, and the pause between probes while it is away */
const PROBE_MS = 5000;
const RETRY_MS = 1000;

/** The nodes a command acts on: `-n` (or the context's nodes), else the endpoint itself (no routing metadata). */
function targets(conn: Connection): { node: string | undefined; name: string }[] {
  return conn.nodes.length > 0 ? conn.nodes.map((n) => ({ node: n, name: n })) : [{ node: undefined, name: defaultNode(conn) }];
}

async function bootId(client: ApiClient, node: string | undefined): Promise<string> {
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
  what: { verb: string; action: string; done: string },
  act: (client: ApiClient, node: string | undefined) => Promise<string>,
  over: (client: ApiClient, node: string | undefined, before: string, conn: Connection) => Promise<boolean>,
  opts: { bootId?: boolean; insecure?: boolean } = {},
): Promise<number> {
  resultFormat(ctx);
  const wait = ctx.bool('wait');
  if (wait && opts.insecure) throw new UsageError('cannot use --wait and --insecure together');
  const deadline = Date.now() + (ctx.duration('timeout') ?? 30 * 60_000);
  const signal = ctx.io.signal ?? new AbortController().signal;
  return withClient(
    ctx,
    async (conn) => {
    const results = await Promise.all(
      targets(conn).map(async ({ node, name }) => {
        try {
          const before = wait && opts.bootId ? await bootId(conn.client, node) : '';
          const actorId = await act(conn.client, node);
          if (!wait) {
            printResult(ctx, name, { action: what.action, actorId });
            return true;
          }
          ctx.err(`${name}: ${what.verb} (actor ${actorId})\n`);
          if (!(await waitFor(() => over(conn.client, node, before, conn), deadline, signal))) {
            ctx.err(`error: ${name}: timed out waiting for the node to be ${what.done}\n`);
            return false;
          }
          ctx.err(`${name}: ${what.done}\n`);
          printResult(ctx, name, { action: what.action, actorId, state: what.done });
          return true;
        } catch (e) {
          ctx.err(`error: ${name}: error executing ${what.action}: ${(e as Error).message}\n`);
          return false;
        }
      }),
    );
    return results.every(Boolean) ? 0 : 1;
    },
    { insecure: opts.insecure },
  );
}

/** A node is gone when it no longer answers. */
async function gone(client: ApiClient, node: string | undefined): Promise<boolean> {
  try {
    await client.machine.version({}, { node, timeout: PROBE_MS });
    return false;
  } catch (e) {
    return e instanceof RpcError;
  }
}

/** Whether a node serves the maintenance API (no client certificate), as it does after a reset wiped its config. */
async function inMaintenance(conn: Connection, node: string | undefined): Promise<boolean> {
  const ep = conn.client.endpoints[0];
  // the node itself, on the endpoint's port when the node is the endpoint
  const target = node === undefined || node === ep?.host ? `${ep!.host.includes(':') ? `[${ep!.host}]` : ep!.host}:${ep!.port}` : node;
  const c = new ApiClient({ endpoints: [target], tls: { insecure: true } });
  try {
    await c.machine.version({}, { timeout: PROBE_MS });
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

const WIPE_MODES: Record<string, ResetRequest_WipeMode> = { all: ResetRequest_WipeMode.ALL, 'system-disk': ResetRequest_WipeMode.SYSTEM_DISK, 'user-disks': ResetRequest_WipeMode.USER_DISKS };

const waitFlags = [
  { name: 'wait', kind: 'bool' as const, description: 'wait for the operation to complete, tracking its progress', default: true },
  { name: 'timeout', kind: 'duration' as const, description: 'time to wait for the operation is complete if --debug or --wait is set', default: parseDuration('30m') },
  resultOutputFlag,
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
      { verb: 'rebooting', action: 'reboot', done: 'rebooted' },
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
      { verb: 'shutting down', action: 'shutdown', done: 'shut down' },
      async (client, node) => (await client.machine.shutdown({ force: ctx.bool('force') }, { node, timeout: 30_000 })).messages[0]?.actorId ?? '',
      gone,
    );
  },
};

export const resetCommand: Command = {
  name: 'reset',
  summary: 'Reset a node',
  flags: [
    { name: 'graceful', kind: 'bool', description: 'if true, attempt to cordon/drain node and leave etcd (if applicable)', default: true },
    { name: 'reboot', kind: 'bool', description: 'if true, reboot the node after resetting instead of shutting down' },
    { name: 'insecure', kind: 'bool', description: 'reset using the insecure (encrypted with no auth) maintenance service' },
    { name: 'wipe-mode', kind: 'string', description: `disk reset mode (${Object.keys(WIPE_MODES).join(', ')})`, default: 'all' },
    { name: 'user-disks-to-wipe', kind: 'list', description: 'if set, wipes defined devices in the list' },
    { name: 'system-labels-to-wipe', kind: 'list', description: 'if set, just wipe selected system disk partitions by label but keep other partitions intact' },
    ...waitFlags,
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    const wipe = ctx.string('wipe-mode') ?? 'all';
    const mode = WIPE_MODES[wipe];
    if (mode === undefined) throw new UsageError(`invalid argument "${wipe}" for "--wipe-mode" flag: possible values are ${Object.keys(WIPE_MODES).join(', ')}`);
    const reboot = ctx.bool('reboot');
    const request = {
      graceful: ctx.bool('graceful'),
      reboot,
      systemPartitionsToWipe: ctx.list('system-labels-to-wipe').map((label) => ({ label, wipe: true })),
      userDisksToWipe: ctx.list('user-disks-to-wipe'),
      mode,
    };
    return lifecycle(
      ctx,
      { verb: 'resetting', action: 'reset', done: reboot ? 'reset and rebooted' : 'reset and shut down' },
      async (client, node) => (await client.machine.reset(request, { node, timeout: 30_000 })).messages[0]?.actorId ?? '',
      // after a reboot: back in maintenance (its config wiped), or back with another boot id; else gone
      reboot
        ? async (client, node, before, conn) => {
            if (await inMaintenance(conn, node)) return true;
            const now = await bootId(client, node);
            return now !== '' && now !== before;
          }
        : gone,
      { bootId: reboot, insecure: ctx.bool('insecure') },
    );
  },
};
