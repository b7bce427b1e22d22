import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata } from '@grpc/grpc-js';
import { AlarmRequest_AlarmAction, AlarmType, MaintenanceClient } from '../../src/api/gen/etcd/rpc.js';
import { which } from '../../src/machined/services/context.js';
import { type ClusterInfo, readCluster } from '../../src/provision/process.js';
import { bronzectl as run, destroyProcessCluster } from '../helpers/bronzectl.js';
import { killProcessesMentioning } from '../helpers/procs.js';

const CIDR = '127.77.90.0/24';
const NODES = ['127.77.90.2', '127.77.90.3', '127.77.90.4'] as const;
const [CP1, CP2, CP3] = NODES;
const ETCD = which('etcd');
const ETCDCTL = which('etcdctl');
const skip = !ETCD || !ETCDCTL ? 'etcd is not installed (/usr/bin/etcd and etcdctl come with `make deps`: Debian etcd-server and etcd-client)' : false;

interface Row {
  node: string;
  cells: string[];
}

/** A table bronzectl printed: its rows after the header, split on runs of spaces. */
const table = (out: string): Row[] =>
  out
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const cells = l.trim().split(/\s{2,}/);
      return { node: cells[0]!, cells: cells.slice(1) };
    });

/** Runs `check` until it returns a value or `ms` pass; the last failure explains a timeout. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Real etcd on a process cluster of three control planes: `bootstrap` on the first, the others join (learner, then
 * voting member); snapshot, status, alarms, defragment, forfeit leadership; `leave` shrinks the cluster and is refused
 * when it would lose quorum; `remove-member` removes a member by id.
 */
describe('etcd on a process cluster of three control planes', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let info: ClusterInfo | undefined;
  const ctl = (...args: string[]) => run(args, env);
  const nodeDir = (addr: string) => join(dir, 'clusters', 'etcd', info!.nodes.find((n) => n.address === addr)!.name);
  const members = async (node: string) => {
    const r = await ctl('-n', node, 'etcd', 'members');
    assert.equal(r.code, 0, r.stderr);
    return table(r.stdout).map((row) => ({ id: row.cells[0]!, hostname: row.cells[1]!, peer: row.cells[2]!, client: row.cells[3]!, learner: row.cells[4] }));
  };
  const status = async (node: string) => {
    const r = await ctl('-n', node, 'etcd', 'status');
    assert.equal(r.code, 0, r.stderr);
    const c = table(r.stdout)[0]!.cells;
    return { member: c[0]!, leader: c[3]!, learner: c[7] === 'true', protocol: c[8]! };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-etcd-'));
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig') };
    const r = await ctl('cluster', 'create', '--name', 'etcd', '--state', join(dir, 'clusters'), '--cidr', CIDR, '--controlplanes', '3', '--workers', '0', '--wait-timeout', '2m');
    assert.equal(r.code, 0, r.stderr);
    info = readCluster(join(dir, 'clusters'), 'etcd');
    assert.deepEqual(info.nodes.map((n) => n.address), [...NODES]);
  });

  after(async () => {
    if (info) await destroyProcessCluster('etcd', join(dir, 'clusters'), env, info);
    // every etcd this test started runs with a data directory under its directory
    killProcessesMentioning(`--data-dir=${dir}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('before bootstrap, each control plane waits to join; after it on one, all three are voting members', { timeout: 90_000 }, async () => {
    const before = await ctl('-n', CP2, 'service', 'etcd');
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /STATE\s+(Preparing|Waiting)/);

    const started = Date.now();
    const b = await ctl('-n', CP1, 'bootstrap');
    assert.equal(b.code, 0, b.stderr);
    const list = await until('three voting members', 60_000, async () => {
      const m = await members(CP1);
      return m.length === 3 && m.every((x) => x.learner === 'false' && x.client.startsWith('https:')) ? m : undefined;
    });
    const joinedMs = Date.now() - started;
    assert.deepEqual(list.map((m) => new URL(m.peer).hostname).sort(), [...NODES]);
    for (const m of list) {
      assert.match(m.id, /^[0-9a-f]{16}$/);
      assert.equal(new URL(m.client).port, '2379');
    }
    // each member's own view agrees
    for (const n of [CP2, CP3]) assert.equal((await members(n)).length, 3);
    // the data directory is no longer empty: a second bootstrap is refused
    const again = await ctl('-n', CP1, 'bootstrap');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /AlreadyExists.*etcd data directory is not empty/);
    process.stderr.write(`# etcd: bootstrap to 3 voting members in ${joinedMs} ms\n`);
  });

  it('reports the status of each member, with one leader, and the EtcdMember resource', { timeout: 60_000 }, async () => {
    const statuses = await Promise.all(NODES.map(status));
    assert.equal(new Set(statuses.map((s) => s.member)).size, 3);
    assert.equal(new Set(statuses.map((s) => s.leader)).size, 1);
    assert.ok(statuses.some((s) => s.member === s.leader));
    assert.match(statuses[0]!.protocol, /^3\.\d+\.\d+$/);
    const own = await until('the local EtcdMember', 45_000, async () => {
      const r = await ctl('-n', CP2, 'get', 'etcdmembers', '-o', 'yaml');
      const m = /memberID: ([0-9a-f]{16})/.exec(r.stdout);
      return m?.[1];
    });
    assert.equal(own, statuses[1]!.member);
  });

  it('writes a snapshot that etcd accepts and can restore', { timeout: 60_000 }, async () => {
    const path = join(dir, 'snap.db');
    const r = await ctl('-n', CP1, 'etcd', 'snapshot', path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /etcd snapshot saved to ".*snap\.db" \(\d+ bytes\)\nsnapshot info: hash [0-9a-f]{8}, revision \d+, total keys \d+, total size \d+\n/);
    assert.equal(statSync(path).size % 512, 32);
    const st = JSON.parse(execFileSync(ETCDCTL!, ['snapshot', 'status', path, '--write-out=json'], { env: { ...process.env, ETCDCTL_API: '3' } }).toString()) as { totalKey: number; totalSize: number };
    assert.ok(st.totalKey > 0 && st.totalSize > 0, JSON.stringify(st));
    const restored = join(dir, 'restored');
    execFileSync(ETCDCTL!, ['snapshot', 'restore', path, `--data-dir=${restored}`], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' });
    assert.ok(existsSync(join(restored, 'member', 'snap', 'db')));
  });

  it('lists a raised alarm, disarms it, and defragments', { timeout: 60_000 }, async () => {
    const member = (await status(CP1)).member;
    const empty = await ctl('-n', CP1, 'etcd', 'alarm', 'list');
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, '');
    // raise NOSPACE on CP1's member with etcd's own API, as etcd does when its quota is exhausted
    const pki = join(nodeDir(CP1), 'system', 'secrets', 'etcd');
    const creds = credentials.createSsl(readFileSync(join(pki, 'ca.crt')), readFileSync(join(pki, 'admin.key')), readFileSync(join(pki, 'admin.crt')));
    const mc = new MaintenanceClient(`${CP1}:2379`, creds);
    try {
      await new Promise<void>((resolve, reject) =>
        mc.alarm({ action: AlarmRequest_AlarmAction.ACTIVATE, memberID: BigInt(`0x${member}`).toString(), alarm: AlarmType.NOSPACE }, new Metadata(), { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve())),
      );
    } finally {
      mc.close();
    }
    const raised = await ctl('-n', CP1, 'etcd', 'alarm', 'list');
    assert.equal(raised.code, 0, raised.stderr);
    assert.deepEqual(table(raised.stdout), [{ node: CP1, cells: [member, 'NOSPACE'] }]);
    const disarmed = await ctl('-n', CP1, 'etcd', 'alarm', 'disarm');
    assert.equal(disarmed.code, 0, disarmed.stderr);
    assert.deepEqual(table(disarmed.stdout), [{ node: CP1, cells: [member, 'NOSPACE'] }]);
    assert.equal((await ctl('-n', CP1, 'etcd', 'alarm', 'list')).stdout, '');

    const d = await ctl('-n', CP1, 'etcd', 'defrag');
    assert.equal(d.code, 0, d.stderr);
    const many = await ctl('-n', `${CP1},${CP2}`, 'etcd', 'defrag');
    assert.equal(many.code, 1);
    assert.match(many.stderr, /command "etcd defrag" is not supported with multiple nodes/);
  });

  it('forfeits leadership: another member leads', { timeout: 60_000 }, async () => {
    const leader = (await status(CP1)).leader;
    const node = NODES[(await Promise.all(NODES.map(status))).findIndex((s) => s.member === leader)]!;
    const f = await ctl('-n', node, 'etcd', 'forfeit-leadership');
    assert.equal(f.code, 0, f.stderr);
    const next = await until('a new leader', 30_000, async () => {
      const l = (await status(CP1)).leader;
      return l !== leader && l !== '0000000000000000' ? l : undefined;
    });
    assert.notEqual(next, leader);
  });

  it('leaves: the cluster shrinks to two; a leave that would lose quorum is refused; remove-member takes one out', { timeout: 90_000 }, async () => {
    const before = await members(CP1);
    const l = await ctl('-n', CP3, 'etcd', 'leave');
    assert.equal(l.code, 0, l.stderr);
    const two = await members(CP1);
    assert.deepEqual(two.map((m) => new URL(m.peer).hostname).sort(), [CP1, CP2]);
    assert.equal(existsSync(join(nodeDir(CP3), 'var', 'lib', 'etcd')), false);
    const svc = await ctl('-n', CP3, 'service', 'etcd');
    assert.match(svc.stdout, /STATE\s+Finished/);

    const refused = await ctl('-n', CP2, 'etcd', 'leave');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FailedPrecondition.*would lose etcd quorum/);
    assert.equal((await members(CP1)).length, 2);

    const cp2 = before.find((m) => new URL(m.peer).hostname === CP2)!;
    const rm = await ctl('-n', CP1, 'etcd', 'remove-member', cp2.id);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual((await members(CP1)).map((m) => new URL(m.peer).hostname), [CP1]);
    const gone = await ctl('-n', CP1, 'etcd', 'remove-member', cp2.id);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NotFound/);
    const bad = await ctl('-n', CP1, 'etcd', 'remove-member', 'xyz');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error parsing member ID/);
  });

  it('recovers a node from a snapshot: bootstrap --recover-from uploads it and starts a member from its data', { timeout: 90_000 }, async () => {
    // CP3 left the cluster: its data directory is gone, so it may bootstrap again, from the snapshot taken above
    const r = await ctl('-n', CP3, 'bootstrap', '--recover-from', join(dir, 'snap.db'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^recovering from snapshot ".*snap\.db": hash [0-9a-f]{8}, revision \d+, total keys \d+, total size \d+\n$/);
    const list = await until('the recovered member', 60_000, async () => {
      const m = await members(CP3);
      return m.length === 1 && m[0]!.learner === 'false' ? m : undefined;
    });
    assert.equal(new URL(list[0]!.peer).hostname, CP3);
    // the uploaded snapshot was used up
    assert.equal(existsSync(join(nodeDir(CP3), 'var', 'lib', 'etcd.snapshot')), false);
    assert.ok(existsSync(join(nodeDir(CP3), 'var', 'lib', 'etcd', 'member')));
  });
});
