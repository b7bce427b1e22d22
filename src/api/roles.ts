/** The roles of the Talos API, carried in the client certificate's subject Organization. */
export const Role = {
  Admin: 'os:admin',
  Operator: 'os:operator',
  Reader: 'os:reader',
  EtcdBackup: 'os:etcd:backup',
  ImageVerifier: 'os:image:verifier',
  MetaWriter: 'os:meta:writer',
  Impersonator: 'os:impersonator',
} as const;

export type RoleName = (typeof Role)[keyof typeof Role];

/** Every known role, sorted. */
export const allRoles: readonly RoleName[] = Object.values(Role).sort();

/** The metadata key that carries roles from apid to machined and between apids. */
export const ROLE_METADATA_KEY = 'talos-role';

const A = Role.Admin;
const O = Role.Operator;
const R = Role.Reader;
const E = Role.EtcdBackup;
const IV = Role.ImageVerifier;
const MW = Role.MetaWriter;

const machine = (names: string[], roles: RoleName[]) => names.map((n) => [`/machine.MachineService/${n}`, roles] as const);

/**
 * Which roles may call which method: a call passes when the caller holds any one of them. Methods that are not listed
 * need the admin role. Some methods open to readers are honoured for readers only in maintenance mode (the handler
 * checks that): ApplyConfiguration and storage BlockDeviceWipe.
 */
export const methodRoles: ReadonlyMap<string, readonly RoleName[]> = new Map<string, readonly RoleName[]>([
  ['/cluster.ClusterService/HealthCheck', [A, O, R]],
  ['/inspect.InspectService/ControllerRuntimeDependencies', [A, O, R]],
  ['/machine.ImageService/Import', [A]],
  ['/machine.ImageService/List', [A, O, R]],
  ['/machine.ImageService/Pull', [A, O]],
  ['/machine.ImageService/Remove', [A]],
  ['/machine.ImageService/Verify', [A, O, R, IV]],
  ['/machine.DebugService/ContainerRun', [A]],
  ['/machine.LifecycleService/Install', [A]],
  ['/machine.LifecycleService/Upgrade', [A]],
  ...machine(['ApplyConfiguration'], [A, R]),
  ...machine(['Bootstrap'], [A]),
  ...machine(
    [
      'CPUInfo',
      'CPUFreqStats',
      'Containers',
      'DiskStats',
      'DiskUsage',
      'Dmesg',
      'Events',
      'Hostname',
      'ImageList',
      'List',
      'LoadAvg',
      'Logs',
      'LogsContainers',
      'Memory',
      'Mounts',
      'NetworkDeviceStats',
      'Netstat',
      'Processes',
      'ServiceList',
      'Stats',
      'SystemStat',
      'Version',
    ],
    [A, O, R],
  ),
  ...machine(
    [
      'Copy',
      'Read',
      'Kubeconfig',
      'GenerateClientConfiguration',
      'Reset',
      'Rollback',
      'Upgrade',
      'EtcdForfeitLeadership',
      'EtcdLeaveCluster',
      'EtcdRecover',
      'EtcdRemoveMemberByID',
      'EtcdDowngradeCancel',
      'EtcdDowngradeEnable',
      'EtcdDowngradeValidate',
    ],
    [A],
  ),
  ...machine(['EtcdAlarmList', 'EtcdMemberList', 'EtcdStatus'], [A, O, R, E]),
  ...machine(['EtcdSnapshot'], [A, O, E]),
  ...machine(['EtcdAlarmDisarm', 'EtcdDefragment'], [A, O]),
  ...machine(['ImagePull', 'PacketCapture', 'Reboot', 'Restart', 'ServiceRestart', 'ServiceStart', 'ServiceStop', 'Shutdown'], [A, O]),
  ...machine(['MetaWrite', 'MetaDelete'], [A, MW]),
  ['/cosi.resource.State/Get', [A, O, R]],
  ['/cosi.resource.State/List', [A, O, R]],
  ['/cosi.resource.State/Watch', [A, O, R]],
  ['/cosi.resource.State/Create', [A]],
  ['/cosi.resource.State/Update', [A]],
  ['/cosi.resource.State/Destroy', [A]],
  ['/storage.StorageService/Disks', [A, O, R]],
  ['/storage.StorageService/BlockDeviceWipe', [A, R]],
  ['/time.TimeService/Time', [A, O, R]],
  ['/time.TimeService/TimeCheck', [A, O, R]],
]);

/** Methods a reader may call only while the node is in maintenance mode. */
export const readerOnlyInMaintenance: ReadonlySet<string> = new Set([
  '/machine.MachineService/ApplyConfiguration',
  '/storage.StorageService/BlockDeviceWipe',
]);

/** The roles that may call a method (admin only for methods the table does not list). */
export function rolesFor(method: string): readonly RoleName[] {
  return methodRoles.get(method) ?? [A];
}

/** Whether a caller holding `roles` may call `method`. */
export function isAuthorized(method: string, roles: Iterable<string> | ReadonlySet<string>, opts: { maintenance?: boolean } = {}): boolean {
  const held = roles instanceof Set ? (roles as ReadonlySet<string>) : new Set(roles);
  const allowed = rolesFor(method);
  if (!allowed.some((r) => held.has(r))) return false;
  // a reader-level grant of these methods counts only in maintenance mode
  if (!opts.maintenance && readerOnlyInMaintenance.has(method) && !held.has(A)) return false;
  return true;
}

/**
 * Parses roles from certificate subject Organization values as Talos does: trims whitespace, skips empty values,
 * keeps unknown strings (they never match a rule).
 */
export function parseRoles(organizations: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const o of organizations) {
    const t = o.trim();
    if (t !== '') out.add(t);
  }
  return [...out].sort();
}
