import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { ConnectRecord_State, ConnectRecord_TimerActive, type NetstatRequest, type NetstatResponse } from '../../src/api/gen/machine/machine.js';
import { type TimeRequest, type TimeResponse, TimeServiceService } from '../../src/api/gen/time/time.js';
import { FakeNode } from '../helpers/fake-node.js';

/** Commands whose node side is not on a process node (TimeService) or whose output is checked field by field. */
describe('bronzectl time, netstat, completion, disks', () => {
  const node = new FakeNode();
  const netstatSeen: NetstatRequest[] = [];
  const timeSeen: TimeRequest[] = [];
  before(async () => {
    const md = (hostname: string) => ({ hostname, error: '', status: undefined });
    await node.start({
      netstat: (call: ServerUnaryCall<NetstatRequest, NetstatResponse>, cb: sendUnaryData<NetstatResponse>) => {
        netstatSeen.push(call.request);
        const rec = (over: object) => ({ l4proto: 'tcp', localip: '10.5.0.2', localport: 50000, remoteip: '0.0.0.0', remoteport: 0, state: ConnectRecord_State.LISTEN, txqueue: '0', rxqueue: '0', tr: ConnectRecord_TimerActive.OFF, timerwhen: '0', retrnsmt: '0', uid: 0, timeout: '0', inode: '4242', ref: '1', pointer: '0', process: { pid: 812, name: 'apid' }, netns: '', ...over });
        cb(null, {
          messages: [
            { metadata: md('10.5.0.2'), connectrecord: [rec({}), rec({ l4proto: 'udp', localport: 123, state: ConnectRecord_State.CLOSE, process: undefined })] },
            { metadata: md('10.5.0.3'), connectrecord: [rec({ localip: '10.5.0.3', remoteip: '10.5.0.2', remoteport: 50000, state: ConnectRecord_State.ESTABLISHED, tr: ConnectRecord_TimerActive.KEEPALIVE, timerwhen: '150', retrnsmt: '2', timeout: '3' })] },
            { metadata: { hostname: '10.5.0.4', error: 'rpc error: code = Unavailable desc = connection refused', status: undefined }, connectrecord: [] },
          ],
        });
      },
    });
    node.server.addService(TimeServiceService, {
      time: (call: ServerUnaryCall<TimeRequest, TimeResponse>, cb: sendUnaryData<TimeResponse>) => {
        timeSeen.push(call.request);
        cb(null, { messages: [{ metadata: md('10.5.0.2'), server: 'time.cloudflare.com', localtime: new Date('2026-12-04T10:00:00.250Z'), remotetime: new Date('2026-12-04T10:00:00Z') }] });
      },
      timeCheck: (call: ServerUnaryCall<TimeRequest, TimeResponse>, cb: sendUnaryData<TimeResponse>) => {
        timeSeen.push(call.request);
        cb(null, { messages: [{ metadata: md('10.5.0.2'), server: call.request.server, localtime: new Date('2026-12-04T10:00:00Z'), remotetime: new Date('2026-12-04T10:00:01.5Z') }] });
      },
    });
  });
  after(() => node.stop());

  it('time prints node and server times as Go prints them, and --check asks the given server', async () => {
    const t = await node.bronzectl('time');
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, 'NODE       NTP-SERVER            NODE-TIME                          NTP-SERVER-TIME\n10.5.0.2   time.cloudflare.com   2026-12-04 10:00:00.25 +0000 UTC   2026-12-04 10:00:00 +0000 UTC\n');
    const c = await node.bronzectl('time', '--check', 'pool.ntp.org', '-o', 'json');
    assert.deepEqual(timeSeen.at(-1), { server: 'pool.ntp.org' });
    const doc = JSON.parse(c.stdout) as { node: string; server: string; remotetime: string };
    assert.deepEqual([doc.node, doc.server, doc.remotetime], ['10.5.0.2', 'pool.ntp.org', '2026-12-04T10:00:01.500Z']);
  });

  it('netstat builds talosctl\'s request from its flags and prints its columns; a failed node is one line', async () => {
    const r = await node.bronzectl('netstat', '-l', '-t', '-4', '-x', '-p', '-o');
    assert.equal(r.code, 1);
    assert.deepEqual(netstatSeen.at(-1), {
      filter: 2,
      feature: { pid: true },
      l4proto: { tcp: true, tcp6: false, udp: false, udp6: false, udplite: false, udplite6: false, raw: false, raw6: false },
      netns: { hostnetwork: true, netns: [], allnetns: false },
    });
    assert.equal(
      r.stdout,
      [
        'NODE       Proto   Recv-Q   Send-Q   Local Address    Foreign Address   State         Uid   Inode   PID/Program name   Timer',
        '10.5.0.2   tcp     0        0        10.5.0.2:50000   0.0.0.0:*         LISTEN        0     4242    812/apid           off (0.00/0/0)',
        '10.5.0.2   udp     0        0        10.5.0.2:123     0.0.0.0:*                       0     4242    -                  off (0.00/0/0)',
        '10.5.0.3   tcp     0        0        10.5.0.3:50000   10.5.0.2:50000    ESTABLISHED   0     4242    812/apid           keepalive (1.50/2/3)',
        '',
      ].join('\n'),
    );
    assert.equal(r.stderr, 'error: node 10.5.0.4: connection refused\n');
    await node.bronzectl('netstat', '-a', '-6');
    assert.deepEqual(netstatSeen.at(-1)!.l4proto, { tcp: false, tcp6: true, udp: false, udp6: true, udplite: false, udplite6: false, raw: false, raw6: false });
    assert.equal(netstatSeen.at(-1)!.filter, 0);
    const y = await node.bronzectl('ss', '--output', 'yaml');
    assert.match(y.stdout, /^node: 10\.5\.0\.2\nmetadata:\n {2}hostname: 10\.5\.0\.2\nconnectrecord:\n {2}- l4proto: tcp\n/);
  });

  it('completion prints scripts bash and fish accept, naming the commands', async () => {
    const bash = await node.bronzectl('completion', 'bash');
    assert.equal(bash.code, 0);
    execFileSync('bash', ['-n'], { input: bash.stdout });
    // the script completes subcommands of the words typed so far
    const words = execFileSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(bronzectl patch m); COMP_CWORD=2; __bronzectl_complete; echo "\${COMPREPLY[@]}"`]).toString();
    assert.equal(words, '\n');
    const top = execFileSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(bronzectl he); COMP_CWORD=1; __bronzectl_complete; echo "\${COMPREPLY[@]}"`]).toString();
    assert.equal(top, 'health\n');
    const flags = execFileSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(bronzectl gen config --with-d); COMP_CWORD=3; __bronzectl_complete; echo "\${COMPREPLY[@]}"`]).toString();
    assert.match(flags, /--with-docs/);
    const fish = await node.bronzectl('completion', 'fish');
    assert.match(fish.stdout, /complete -c bronzectl -n '__fish_use_subcommand' -a 'netstat' -d 'Show network connections and sockets'/);
    assert.match((await node.bronzectl('completion', 'zsh')).stdout, /^#compdef bronzectl\nautoload -U \+X bashcompinit && bashcompinit\n/);
    assert.match((await node.bronzectl('completion', 'tcsh')).stderr, /unsupported shell type "tcsh"/);
  });

  it('disks points at the resources that replaced it, as talosctl does, and help leaves it out', async () => {
    const d = await node.bronzectl('disks');
    assert.equal(d.code, 1);
    assert.match(d.stderr, /`bronzectl disks` is deprecated, please use `bronzectl get disks`/);
    assert.doesNotMatch((await node.bronzectl('--help')).stdout, /^ {2}disks /m);
  });
});
