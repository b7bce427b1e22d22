import { execFile } from 'node:child_process';
import { open, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { type EtcdMemberAlarm, etcdMemberAlarm_AlarmTypeToJSON } from '../../api/gen/machine/machine.js';
import type { WithMetadata } from '../../client/results.js';
import { formatMemberID, parseMemberID } from '../../resources/etcd/member.js';
import type { Command, CommandContext } from '../command.js';
import { type Connection, defaultNode, perNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { humanBytes } from '../output/humanize.js';
import { tabulate } from '../output/tabwriter.js';

/** talosctl refuses these commands with more than one node: they act on one member. */
function oneNode(conn: Connection, command: string): void {
  if (conn.nodes.length > 1) throw new UsageError(`command "${command}" is not supported with multiple nodes`);
}

/** Runs a unary call whose answers carry nothing but the node: errors per node, exit code. */
async function onNodes(ctx: CommandContext, command: string | undefined, call: (conn: Connection) => Promise<{ messages: WithMetadata[] }>): Promise<number> {
  return withClient(ctx, async (conn) => {
    if (command) oneNode(conn, command);
    const { failed } = perNode(ctx, await call(conn), defaultNode(conn));
    return failed ? 1 : 0;
  });
}

function alarms(ctx: CommandContext, items: { node: string; value: { memberAlarms: EtcdMemberAlarm[] } }[]): void {
  const rows = [['NODE', 'MEMBER', 'ALARM']];
  for (const { node, value } of items) for (const a of value.memberAlarms) rows.push([node, formatMemberID(a.memberId), etcdMemberAlarm_AlarmTypeToJSON(a.alarm)]);
  if (rows.length > 1) ctx.out(tabulate(rows));
}

/** `alarm list` and `alarm disarm`: the same table of member alarms, from two calls. */
const alarmCommand = (name: string, summary: string, call: (conn: Connection) => Promise<{ messages: (WithMetadata & { memberAlarms: EtcdMemberAlarm[] })[] }>): Command => ({
  name,
  summary,
  async run(ctx) {
    ctx.expectArgs(0);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await call(conn), defaultNode(conn));
      alarms(ctx, items);
      return failed ? 1 : 0;
    });
  },
});

const alarmList = alarmCommand('list', 'List the etcd alarms for the node.', (conn) => conn.client.machine.etcdAlarmList({}));
const alarmDisarm = alarmCommand('disarm', 'Disarm the etcd alarms for the node.', (conn) => conn.client.machine.etcdAlarmDisarm({}));

const members: Command = {
  name: 'members',
  summary: 'Get the list of etcd cluster members',
  async run(ctx) {
    ctx.expectArgs(0);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.etcdMemberList({ queryLocal: true }), defaultNode(conn));
      const rows = [['NODE', 'ID', 'HOSTNAME', 'PEER URLS', 'CLIENT URLS', 'LEARNER']];
      for (const { node, value } of items) {
        for (const m of value.members) rows.push([node, formatMemberID(m.id), m.hostname, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner)]);
      }
      if (rows.length > 1) ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};

const status: Command = {
  name: 'status',
  summary: 'Get the status of etcd cluster member',
  async run(ctx) {
    ctx.expectArgs(0);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.machine.etcdStatus({}), defaultNode(conn));
      const rows = [['NODE', 'MEMBER', 'DB SIZE', 'IN USE', 'LEADER', 'RAFT INDEX', 'RAFT TERM', 'RAFT APPLIED INDEX', 'LEARNER', 'PROTOCOL', 'STORAGE', 'ERRORS']];
      for (const { node, value } of items) {
        const s = value.memberStatus;
        const size = Number(s?.dbSize ?? 0);
        const inUse = Number(s?.dbSizeInUse ?? 0);
        const ratio = size > 0 ? (inUse / size) * 100 : 0;
        rows.push([
          node,
          formatMemberID(s?.memberId ?? '0'),
          humanBytes(size),
          `${humanBytes(inUse)} (${ratio.toFixed(2)}%)`,
          formatMemberID(s?.leader ?? '0'),
          s?.raftIndex ?? '0',
          s?.raftTerm ?? '0',
          s?.raftAppliedIndex ?? '0',
          String(s?.isLearner ?? false),
          s?.protocolVersion ?? '',
          s?.storageVersion ?? '',
          (s?.errors ?? []).join(', '),
        ]);
      }
      ctx.out(tabulate(rows));
      return failed ? 1 : 0;
    });
  },
};

const leave: Command = {
  name: 'leave',
  summary: 'Tell nodes to leave etcd cluster',
  async run(ctx) {
    ctx.expectArgs(0);
    return onNodes(ctx, 'etcd leave', (conn) => conn.client.machine.etcdLeaveCluster({}));
  },
};

const removeMember: Command = {
  name: 'remove-member',
  summary: 'Remove the node from etcd cluster',
  usage: '<member ID>',
  async run(ctx) {
    const [id] = ctx.expectArgs(1);
    let memberId: bigint;
    try {
      memberId = parseMemberID(id!);
    } catch (e) {
      throw new UsageError(`error parsing member ID: ${(e as Error).message}`);
    }
    return onNodes(ctx, undefined, (conn) => conn.client.machine.etcdRemoveMemberById({ memberId: memberId.toString() }));
  },
};

const forfeitLeadership: Command = {
  name: 'forfeit-leadership',
  summary: 'Tell node to forfeit etcd cluster leadership',
  async run(ctx) {
    ctx.expectArgs(0);
    return onNodes(ctx, undefined, (conn) => conn.client.machine.etcdForfeitLeadership({}));
  },
};

const defrag: Command = {
  name: 'defrag',
  summary: 'Defragment etcd database on the node',
  async run(ctx) {
    ctx.expectArgs(0);
    return onNodes(ctx, 'etcd defrag', (conn) => conn.client.machine.etcdDefragment({}));
  },
};

/** etcd's snapshot file ends with the SHA-256 of what precedes it, in a 512-byte-aligned layout. */
const SHA256_SIZE = 32;

/** `etcdctl snapshot status` of a file, where etcdctl is installed: hash, revision, keys, size. */
export async function snapshotInfo(path: string): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number } | undefined> {
  for (const bin of ['etcdutl', 'etcdctl']) {
    try {
      const { stdout } = await promisify(execFile)(bin, ['snapshot', 'status', path, '--write-out=json'], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 });
      return JSON.parse(stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`${bin} snapshot status: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
  }
  return undefined;
}

const snapshot: Command = {
  name: 'snapshot',
  summary: 'Stream snapshot of the etcd node to the path.',
  usage: '<path>',
  async run(ctx) {
    const [dbPath] = ctx.expectArgs(1);
    return withClient(ctx, async (conn) => {
      oneNode(conn, 'etcd snapshot');
      const part = `${dbPath!}.part`;
      const dest = await open(part, 'w', 0o600);
      let size = 0;
      try {
        for await (const d of conn.client.machine.etcdSnapshot({}, { signal: ctx.io.signal })) {
          if (d.metadata?.error) throw new Error(`error reading: ${d.metadata.error}`);
          await dest.write(d.bytes);
          size += d.bytes.length;
        }
        await dest.sync();
        if (size % 512 !== SHA256_SIZE) throw new Error(`sha256 checksum not found (size ${size})`);
        await dest.close();
        await rename(part, dbPath!);
      } finally {
        await dest.close().catch(() => undefined);
        await rm(part, { force: true });
      }
      ctx.out(`etcd snapshot saved to ${JSON.stringify(dbPath)} (${size} bytes)\n`);
      const info = await snapshotInfo(dbPath!);
      if (info) ctx.out(`snapshot info: hash ${(info.hash >>> 0).toString(16).padStart(8, '0')}, revision ${info.revision}, total keys ${info.totalKey}, total size ${info.totalSize}\n`);
      return 0;
    });
  },
};

export const etcdCommand: Command = {
  name: 'etcd',
  summary: 'Manage etcd',
  subcommands: [
    { name: 'alarm', summary: 'Manage etcd alarms', subcommands: [alarmList, alarmDisarm] },
    defrag,
    forfeitLeadership,
    leave,
    members,
    removeMember,
    snapshot,
    status,
  ],
};
