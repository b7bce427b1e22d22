import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MethodKind, methods, parseMethodPath, services } from './services.js';

const kinds: Record<string, MethodKind> = { U: 'unary', S: 'server_stream', C: 'client_stream', B: 'bidi_stream' };

// Every RPC of the Talos v1.13 API and the COSI State service, with how it streams
// (U unary, S server stream, C client stream, B bidirectional).
const expected: [string, keyof typeof kinds][] = [
  ['/machine.MachineService/ApplyConfiguration', 'U'],
  ['/machine.MachineService/Bootstrap', 'U'],
  ['/machine.MachineService/Containers', 'U'],
  ['/machine.MachineService/Copy', 'S'],
  ['/machine.MachineService/CPUFreqStats', 'U'],
  ['/machine.MachineService/CPUInfo', 'U'],
  ['/machine.MachineService/DiskStats', 'U'],
  ['/machine.MachineService/Dmesg', 'S'],
  ['/machine.MachineService/Events', 'S'],
  ['/machine.MachineService/EtcdMemberList', 'U'],
  ['/machine.MachineService/EtcdRemoveMemberByID', 'U'],
  ['/machine.MachineService/EtcdLeaveCluster', 'U'],
  ['/machine.MachineService/EtcdForfeitLeadership', 'U'],
  ['/machine.MachineService/EtcdRecover', 'C'],
  ['/machine.MachineService/EtcdSnapshot', 'S'],
  ['/machine.MachineService/EtcdAlarmList', 'U'],
  ['/machine.MachineService/EtcdAlarmDisarm', 'U'],
  ['/machine.MachineService/EtcdDefragment', 'U'],
  ['/machine.MachineService/EtcdStatus', 'U'],
  ['/machine.MachineService/EtcdDowngradeValidate', 'U'],
  ['/machine.MachineService/EtcdDowngradeEnable', 'U'],
  ['/machine.MachineService/EtcdDowngradeCancel', 'U'],
  ['/machine.MachineService/Hostname', 'U'],
  ['/machine.MachineService/Kubeconfig', 'S'],
  ['/machine.MachineService/List', 'S'],
  ['/machine.MachineService/DiskUsage', 'S'],
  ['/machine.MachineService/LoadAvg', 'U'],
  ['/machine.MachineService/Logs', 'S'],
  ['/machine.MachineService/LogsContainers', 'U'],
  ['/machine.MachineService/Memory', 'U'],
  ['/machine.MachineService/Mounts', 'U'],
  ['/machine.MachineService/NetworkDeviceStats', 'U'],
  ['/machine.MachineService/Processes', 'U'],
  ['/machine.MachineService/Read', 'S'],
  ['/machine.MachineService/Reboot', 'U'],
  ['/machine.MachineService/Restart', 'U'],
  ['/machine.MachineService/Rollback', 'U'],
  ['/machine.MachineService/Reset', 'U'],
  ['/machine.MachineService/ServiceList', 'U'],
  ['/machine.MachineService/ServiceRestart', 'U'],
  ['/machine.MachineService/ServiceStart', 'U'],
  ['/machine.MachineService/ServiceStop', 'U'],
  ['/machine.MachineService/Shutdown', 'U'],
  ['/machine.MachineService/Stats', 'U'],
  ['/machine.MachineService/SystemStat', 'U'],
  ['/machine.MachineService/Upgrade', 'U'],
  ['/machine.MachineService/Version', 'U'],
  ['/machine.MachineService/GenerateClientConfiguration', 'U'],
  ['/machine.MachineService/PacketCapture', 'S'],
  ['/machine.MachineService/Netstat', 'U'],
  ['/machine.MachineService/MetaWrite', 'U'],
  ['/machine.MachineService/MetaDelete', 'U'],
  ['/machine.MachineService/ImageList', 'S'],
  ['/machine.MachineService/ImagePull', 'U'],
  ['/machine.ImageService/List', 'S'],
  ['/machine.ImageService/Pull', 'S'],
  ['/machine.ImageService/Import', 'C'],
  ['/machine.ImageService/Remove', 'U'],
  ['/machine.ImageService/Verify', 'U'],
  ['/machine.LifecycleService/Install', 'S'],
  ['/machine.LifecycleService/Upgrade', 'S'],
  ['/machine.DebugService/ContainerRun', 'B'],
  ['/cluster.ClusterService/HealthCheck', 'S'],
  ['/inspect.InspectService/ControllerRuntimeDependencies', 'U'],
  ['/storage.StorageService/Disks', 'U'],
  ['/storage.StorageService/BlockDeviceWipe', 'U'],
  ['/time.TimeService/Time', 'U'],
  ['/time.TimeService/TimeCheck', 'U'],
  ['/cosi.resource.State/Get', 'U'],
  ['/cosi.resource.State/List', 'S'],
  ['/cosi.resource.State/Create', 'U'],
  ['/cosi.resource.State/Update', 'U'],
  ['/cosi.resource.State/Destroy', 'U'],
  ['/cosi.resource.State/Watch', 'S'],
  ['/securityapi.SecurityService/Certificate', 'U'],
];

describe('registered gRPC methods', () => {
  it('are exactly the expected paths with their streaming kinds', () => {
    const got = [...methods().values()].map((m) => [m.path, m.kind]).sort();
    const want = expected.map(([p, k]) => [p, kinds[k]]).sort();
    assert.deepEqual(got, want);
  });

  it('count 54 MachineService RPCs and 75 in all', () => {
    const per = new Map<string, number>();
    for (const m of methods().values()) per.set(m.service, (per.get(m.service) ?? 0) + 1);
    assert.equal(per.get('machine.MachineService'), 54);
    assert.equal(per.get('cosi.resource.State'), 6);
    assert.equal(methods().size, 75);
    assert.equal(services.length, 10);
  });

  it('know which services carry the metadata envelope', () => {
    assert.equal(methods().get('/machine.MachineService/Version')?.envelope, true);
    assert.equal(methods().get('/time.TimeService/Time')?.envelope, true);
    assert.equal(methods().get('/cosi.resource.State/Watch')?.envelope, false);
    assert.equal(methods().get('/machine.ImageService/List')?.envelope, false);
  });

  it('parse method paths', () => {
    assert.deepEqual(parseMethodPath('/machine.MachineService/Version'), { service: 'machine.MachineService', method: 'Version' });
    assert.equal(parseMethodPath('machine.MachineService/Version'), undefined);
    assert.equal(parseMethodPath('/x/y/z'), undefined);
  });
});
