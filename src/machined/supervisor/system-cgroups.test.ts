import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CGROUPS, cpuWeight, createSystemCgroup, createSystemCgroups, resourceFiles } from './system-cgroups.js';

const tmp = mkdtempSync(join(tmpdir(), 'bronze-cgroups-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const read = (...p: string[]) => readFileSync(join(...p), 'utf8').trim();

describe('system cgroups', () => {
  it('turns millicores into cpu.weight through v1 shares, at most the machine’s cores', () => {
    // 1000 millicores = 1024 shares = weight 39; 2000 = 79; the default share (1024) as in the kernel's mapping
    assert.equal(cpuWeight(1000, 4), 39);
    assert.equal(cpuWeight(2000, 4), 79);
    assert.equal(cpuWeight(250, 4), 10);
    // on two cores 4000 millicores count as 2000
    assert.equal(cpuWeight(4000, 2), cpuWeight(2000, 2));
    assert.equal(cpuWeight(4000, 8), 157);
  });

  it('gives each group its weight and memory protection; apid and trustd are capped at 128 MiB', () => {
    assert.deepEqual(resourceFiles(CGROUPS.apid, 2), [
      ['cpu.weight', '20'],
      ['memory.min', String(16 << 20)],
      ['memory.low', String(32 << 20)],
      ['memory.max', String(128 << 20)],
      ['memory.swap.max', '0'],
    ]);
    assert.deepEqual(resourceFiles(CGROUPS.etcd, 2), [
      ['cpu.weight', '79'],
      ['memory.low', String(256 << 20)],
      ['memory.swap.max', '0'],
    ]);
    assert.deepEqual(resourceFiles(CGROUPS.podRuntimeRoot, 2), [
      ['cpu.weight', '79'],
      ['memory.min', String(292 << 20)],
      ['memory.low', String((292 * 2 + 256) << 20)],
    ]);
  });

  it('makes /init (with machined in it), /system and /podruntime, the controllers enabled above each group', async () => {
    const root = join(tmp, 'fs');
    createSystemCgroups(root, 4242, 2);
    assert.equal(read(root, 'init', 'cgroup.procs'), '4242');
    assert.equal(read(root, 'init', 'cpu.weight'), '79');
    assert.equal(read(root, 'system', 'cpu.weight'), '59');
    assert.equal(read(root, 'podruntime', 'memory.min'), String(292 << 20));
    assert.equal(read(root, 'cgroup.subtree_control'), '+cpu +memory');
    // a service's group: its parent's controllers are enabled too
    const path = createSystemCgroup(root, CGROUPS.trustd, 2);
    assert.equal(path, join(root, 'system', 'trustd'));
    assert.equal(read(root, 'system', 'cgroup.subtree_control'), '+cpu +memory');
    assert.equal(read(path, 'memory.max'), String(128 << 20));
    assert.equal(read(path, 'cpu.weight'), '10');
  });

  it('writes cgroup.subtree_control only with the controllers not enabled yet (the kernel lists them without +)', () => {
    const root = join(tmp, 'enabled');
    mkdirSync(join(root, 'system'), { recursive: true });
    writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu memory\n');
    writeFileSync(join(root, 'system', 'cgroup.subtree_control'), 'cpu\n');
    createSystemCgroup(root, CGROUPS.apid, 2);
    // untouched where both are on; only the missing one asked for below
    assert.equal(read(root, 'cgroup.subtree_control'), 'cpu memory');
    assert.equal(read(root, 'system', 'cgroup.subtree_control'), '+memory');
  });
});
