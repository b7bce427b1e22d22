import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamAvailable, upstreamFile } from '../config/testing.js';
import { allRoles, isAuthorized, parseRoles, Role, rolesFor } from './roles.js';
import { methods } from './services.js';

// The same rules written the other way round: for each role, the methods it opens (outside maintenance mode).
const M = (names: string) => names.split(/\s+/).filter(Boolean).map((n) => (n.startsWith('/') ? n : `/machine.MachineService/${n}`));
const readerMethods = M(`
  CPUInfo CPUFreqStats Containers DiskStats DiskUsage Dmesg Events Hostname ImageList List LoadAvg Logs LogsContainers
  Memory Mounts NetworkDeviceStats Netstat Processes ServiceList Stats SystemStat Version EtcdAlarmList EtcdMemberList EtcdStatus
  /cluster.ClusterService/HealthCheck /inspect.InspectService/ControllerRuntimeDependencies /machine.ImageService/List
  /machine.ImageService/Verify /cosi.resource.State/Get /cosi.resource.State/List /cosi.resource.State/Watch
  /storage.StorageService/Disks /time.TimeService/Time /time.TimeService/TimeCheck
`);
const operatorExtra = M(`
  EtcdSnapshot EtcdAlarmDisarm EtcdDefragment ImagePull PacketCapture Reboot Restart ServiceRestart ServiceStart ServiceStop Shutdown
  /machine.ImageService/Pull
`);
const opens: Record<string, string[]> = {
  [Role.Reader]: readerMethods,
  [Role.Operator]: [...readerMethods, ...operatorExtra],
  [Role.EtcdBackup]: M('EtcdSnapshot EtcdAlarmList EtcdMemberList EtcdStatus'),
  [Role.ImageVerifier]: M('/machine.ImageService/Verify'),
  [Role.MetaWriter]: M('MetaWrite MetaDelete'),
  [Role.Impersonator]: [],
};

describe('role table', () => {
  it('matches Talos for every method and every role', () => {
    const all = [...methods().keys()].filter((p) => !p.startsWith('/securityapi.'));
    assert.equal(all.length, 74);
    let checked = 0;
    for (const method of all) {
      for (const role of allRoles) {
        const want = role === Role.Admin || (opens[role] ?? []).includes(method);
        assert.equal(isAuthorized(method, [role]), want, `${role} on ${method}`);
        checked++;
      }
    }
    assert.equal(checked, 74 * 7);
  });

  it('lets readers apply a config and wipe disks only in maintenance mode', () => {
    const apply = '/machine.MachineService/ApplyConfiguration';
    assert.equal(isAuthorized(apply, [Role.Reader]), false);
    assert.equal(isAuthorized(apply, [Role.Reader], { maintenance: true }), true);
    assert.equal(isAuthorized('/storage.StorageService/BlockDeviceWipe', [Role.Reader], { maintenance: true }), true);
    assert.equal(isAuthorized('/machine.MachineService/Reboot', [Role.Reader], { maintenance: true }), false);
    assert.equal(isAuthorized(apply, [Role.Admin]), true);
  });

  it('needs admin for methods it does not list, and any one held role suffices', () => {
    assert.deepEqual(rolesFor('/machine.MachineService/SomethingNew'), [Role.Admin]);
    assert.equal(isAuthorized('/machine.MachineService/Reboot', ['os:unknown', Role.Operator]), true);
    assert.equal(isAuthorized('/machine.MachineService/Version', []), false);
  });

  it('parses roles from Organization values', () => {
    assert.deepEqual(parseRoles([' os:reader ', '', 'os:admin', 'os:reader', 'custom']), ['custom', 'os:admin', 'os:reader']);
  });
});

describe('the role table against Talos’s rules', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, () => {
  it('opens every method to the same roles as machined’s rules at the compatibility tag', () => {
    const source = upstreamFile('internal/app/machined/pkg/system/services/machined.go')!;
    const start = source.indexOf('var rules = map[string]role.Set{');
    assert.ok(start >= 0, 'the rules map is where it was');
    const block = source.slice(start, source.indexOf('\n}\n', start));
    const byConstant = new Map(Object.entries(Role));
    const theirs = new Map<string, string[]>();
    for (const [, path, roles] of block.matchAll(/"([^"]+)":\s*role\.MakeSet\(([^)]*)\)/g)) {
      theirs.set(path!, [...roles!.matchAll(/role\.(\w+)/g)].map(([, c]) => byConstant.get(c!) ?? `unknown role constant ${c}`).sort());
    }
    assert.ok(theirs.size > 60, `${theirs.size} rules read`);
    const differences: string[] = [];
    for (const [path, roles] of theirs) if ([...rolesFor(path)].sort().join() !== roles.join()) differences.push(`${path}: Talos ${roles.join()}, ours ${rolesFor(path).join()}`);
    for (const path of methods().keys()) if (!theirs.has(path) && rolesFor(path).join() !== Role.Admin) differences.push(`${path}: Talos admin only, ours ${rolesFor(path).join()}`);
    assert.deepEqual(differences, []);
  });
});
