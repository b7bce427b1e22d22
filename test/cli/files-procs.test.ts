import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { handleServerStreamingCall, handleUnaryCall } from '@grpc/grpc-js';
import { FileInfo, type ListRequest, ProcessInfo, type ProcessesResponse } from '../../src/api/gen/machine/machine.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl ls and processes', () => {
  const node = new FakeNode();
  let listReq: ListRequest | undefined;
  before(() => {
    const list: handleServerStreamingCall<ListRequest, FileInfo> = (call) => {
      listReq = call.request;
      const f = (name: string, mode: number, size: number, link = '') => FileInfo.fromPartial({ name: `/etc/${name}`, relativeName: name, mode, size: String(size), modified: String(Math.floor(Date.now() / 1000)), uid: 0, gid: 0, link });
      call.write(f('.', 2 ** 31 + 0o755, 4096));
      call.write(f('hosts', 0o644, 120));
      call.write(f('localtime', 2 ** 27 + 0o777, 33, '/usr/share/zoneinfo/UTC'));
      call.end();
    };
    const processes: handleUnaryCall<unknown, ProcessesResponse> = (_c, cb) =>
      cb(null, {
        messages: [
          {
            metadata: undefined,
            processes: [
              ProcessInfo.fromPartial({ pid: 1, state: 'S', threads: 9, cpuTime: 1.5, virtualMemory: '800000000', residentMemory: '50000000', command: 'init', executable: '/sbin/init', args: 'init --boot' }),
              ProcessInfo.fromPartial({ pid: 300, state: 'R', threads: 1, cpuTime: 12.25, virtualMemory: '9000000', residentMemory: '90000000', command: 'apid', executable: '', args: '' }),
            ],
          },
        ],
      });
    return node.start({ list, processes });
  });
  after(() => node.stop());

  it('lists names, and details with -l', async () => {
    const r = await node.bronzectl('ls', '/etc', '-t', 'fl');
    assert.equal(r.stdout, '.\nhosts\nlocaltime\n');
    assert.deepEqual({ root: listReq!.root, types: listReq!.types, recurse: listReq!.recurse, depth: listReq!.recursionDepth }, { root: '/etc', types: [0, 2], recurse: false, depth: 1 });
    const l = await node.bronzectl('ls', '-l', '/etc');
    const lines = l.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NODE\s+MODE\s+UID\s+GID\s+SIZE\(B\)\s+LASTMOD\s+LABEL\s+NAME$/);
    assert.match(lines[2]!, /^127\.0\.0\.1\s+-rw-r--r--\s+0\s+0\s+120\s+\w{3} [ \d]\d \d\d:\d\d:\d\d\s+hosts$/);
    assert.match(lines[3]!, /Lrwxrwxrwx .* localtime -> \/usr\/share\/zoneinfo\/UTC$/);
    await node.bronzectl('ls', '-r');
    assert.equal(listReq!.recursionDepth, -1);
    assert.match((await node.bronzectl('ls', '-r', '-d', '3')).stderr, /only one of flags --recurse and --depth/);
  });

  it('lists processes sorted by resident memory, or by CPU', async () => {
    const r = await node.bronzectl('ps');
    assert.equal(
      r.stdout,
      [
        'NODE       PID  STATE  THREADS  CPU-TIME  VIRTMEM  RESMEM  LABEL  COMMAND',
        '127.0.0.1  300  R      1        12.25     9.0 MB   90 MB          apid',
        '127.0.0.1  1    S      9        1.50      800 MB   50 MB          /sbin/init --boot',
        '',
      ].join('\n'),
    );
    const cpu = await node.bronzectl('processes', '-s', 'cpu');
    assert.match(cpu.stdout.split('\n')[1]!, /^127\.0\.0\.1  300/);
  });
});
