import { RebootRequest_Mode, ResetRequest_WipeMode, type RebootRequest, type ResetRequest, type ShutdownRequest } from '../../api/gen/machine/machine.js';
import { SequencerError } from './errors.js';
import { PhaseList, type Phase, type Task, type TaskFn } from './phases.js';
import type { SequenceBuilder, SequenceDefinitions } from './sequencer.js';

/** Task names as Talos's TaskEvents carry them (talosctl --wait watches `stopAllServices`). */
export const TASK_NAMES = [
  // initialize
  'enforceKSPPRequirements', 'startMachined', 'waitForUdevd', 'startApid', 'startAuditd', 'startSyslogd', 'startContainerd',
  'waitForUSB', 'reloadMeta', 'cleanupBootloader', 'startDashboard', 'wipeSystemDisk', 'haltIfInstalled', 'loadConfig',
  // boot
  'memorySizeCheck', 'diskSizeCheck', 'setUserEnvVars', 'waitForCARoots', 'startDBus', 'setupSharedFilesystems',
  'mountEphemeralPartition', 'mountPromotableSystemPartitions', 'mountUserDisks', 'writeUserFiles', 'startAllServices',
  // going down
  'storeShutdownEmergency', 'cordonAndDrainNode', 'stopAllPods', 'removeAllPods', 'stopDBus', 'leaveEtcd', 'sendResetSignal',
  'denyNewServices', 'stopServicesForUpgrade', 'unmountPodMounts', 'unmountSystemDiskBindMounts',
  'unmountPromotableSystemPartitions', 'unmountEphemeralPartition', 'teardownLifecycle', 'stopAllServices', 'kexecPrepare',
  'forceCleanup', 'resetSystemDisk', 'resetSystemDiskSpec', 'resetUserDisks', 'reboot', 'shutdown',
] as const;

export type TaskName = (typeof TASK_NAMES)[number];

/** The task implementations a node has; a task it lacks is left out of its phase (it does not apply here). */
export type TaskSet = Partial<Record<TaskName, TaskFn<unknown>>>;

/** Runtime facts the sequences branch on; checks marked "deferred" are evaluated when their phase is reached. */
export interface SequenceEnvironment {
  /**
   * `metal` covers metal and cloud; `container` is Talos's container mode; `process` is the process platform, which
   * runs container mode's sequences except that reset leaves etcd (graceful) and the discovery service, wipes the
   * node's state directory and honours `reboot`
   */
  mode: 'metal' | 'container' | 'process';
  tasks: TaskSet;
  /** deferred: the system disk holds an installed system */
  installed?: () => boolean;
  /** deferred: META says the disk image used the dual-boot bootloader */
  dualBootBootloader?: () => boolean;
  /** deferred: `talos.dashboard.disabled` is not set (and not metal-agent) */
  dashboardEnabled?: () => boolean;
  /** deferred: `talos.experimental.wipe` is set */
  wipeRequested?: () => boolean;
  /** deferred: `talos.halt_if_installed=1` */
  haltIfInstalled?: () => boolean;
  /** kexec can be used for this reboot (enabled, not POWERCYCLE, no secure boot, system disk present) */
  kexecEnabled?: (mode: RebootRequest_Mode) => boolean;
  /** the kubelet registers the node (drain only makes sense then) */
  nodeRegistered?: () => boolean;
  controlPlane?: () => boolean;
  /** the boot partition is wiped by this reset (no kexec then) */
  resetWipesBoot?: (req: ResetRequest) => boolean;
  /** phases of the install sequence (hook: the installer comes later) */
  install?: SequenceBuilder;
  /** phases of the upgrade sequences (hooks) */
  upgrade?: SequenceBuilder;
  stageUpgrade?: SequenceBuilder;
  maintenanceUpgrade?: SequenceBuilder;
}

function task(env: SequenceEnvironment, name: TaskName): Task<unknown> | undefined {
  const run = env.tasks[name];
  return run ? { name, run } : undefined;
}

/** The stop-everything phases shared by reboot, shutdown and reset. */
function stopAll(env: SequenceEnvironment, kexec: boolean): PhaseList<unknown> {
  const t = (n: TaskName) => task(env, n);
  const list = new PhaseList<unknown>();
  if (env.mode !== 'metal') return list.append('stopEverything', t('stopAllServices'));
  return list
    .append('denyNewServices', t('denyNewServices'))
    .append('stopServices', t('stopServicesForUpgrade'))
    .append('umount', t('unmountPodMounts'))
    .append('unmountBind', t('unmountSystemDiskBindMounts'))
    .append('unmountPromotable', t('unmountPromotableSystemPartitions'))
    .append('unmountSystem', t('unmountEphemeralPartition'))
    .append('volumeFinalize', t('teardownLifecycle'))
    .append('stopEverything', t('stopAllServices'))
    .appendWhen(kexec, 'kexec', t('kexecPrepare'));
}

const always = () => true;

export function initializeSequence(env: SequenceEnvironment): Phase<unknown>[] {
  const t = (n: TaskName) => task(env, n);
  const list = new PhaseList<unknown>();
  if (env.mode !== 'metal') {
    return list.append('machined', t('startApid'), t('startMachined'), t('startContainerd')).append('config', t('loadConfig')).phases;
  }
  const never = () => false;
  return list
    .append('systemRequirements', t('enforceKSPPRequirements'))
    .append('earlyServices', t('startMachined'), t('waitForUdevd'), t('startApid'), t('startAuditd'), t('startSyslogd'), t('startContainerd'))
    .append('usb', t('waitForUSB'))
    .append('meta', t('reloadMeta'))
    .appendWithDeferredCheck(() => (env.installed ?? never)() && (env.dualBootBootloader ?? never)(), 'cleanupBootloader', t('cleanupBootloader'))
    .appendWithDeferredCheck(env.dashboardEnabled ?? always, 'dashboard', t('startDashboard'))
    .appendWithDeferredCheck(env.wipeRequested ?? never, 'wipeDisks', t('wipeSystemDisk'))
    .appendWithDeferredCheck(() => (env.installed ?? never)() && (env.haltIfInstalled ?? never)(), 'haltIfInstalled', t('haltIfInstalled'))
    .append('config', t('loadConfig')).phases;
}

export function bootSequence(env: SequenceEnvironment): Phase<unknown>[] {
  const t = (n: TaskName) => task(env, n);
  const container = env.mode !== 'metal';
  return new PhaseList<unknown>()
    .append('memorySizeCheck', t('memorySizeCheck'))
    .append('diskSizeCheck', t('diskSizeCheck'))
    .append('env', t('setUserEnvVars'), t('waitForCARoots'))
    .append('dbus', t('startDBus'))
    .appendWhen(container, 'sharedFilesystems', t('setupSharedFilesystems'))
    .append('ephemeral', t('mountEphemeralPartition'))
    .appendWhen(!container, 'promotableVolumes', t('mountPromotableSystemPartitions'))
    .appendWhen(!container, 'userDisks', t('mountUserDisks'))
    .append('userSetup', t('writeUserFiles'))
    .append('startEverything', t('startAllServices')).phases;
}

export function rebootSequence(env: SequenceEnvironment, req: Pick<RebootRequest, 'mode'> = { mode: RebootRequest_Mode.DEFAULT }): Phase<unknown>[] {
  const t = (n: TaskName) => task(env, n);
  const list = new PhaseList<unknown>();
  if (req.mode === RebootRequest_Mode.FORCE) return list.append('reboot', t('reboot')).phases;
  const kexec = env.mode === 'metal' && (env.kexecEnabled?.(req.mode) ?? false);
  return list
    .append('cleanup', t('stopAllPods'))
    .append('dbus', t('stopDBus'))
    .appendList(stopAll(env, kexec))
    .append('reboot', t('reboot')).phases;
}

export function shutdownSequence(env: SequenceEnvironment, req: Pick<ShutdownRequest, 'force'> = { force: false }): Phase<unknown>[] {
  const t = (n: TaskName) => task(env, n);
  const drain = !req.force && (env.nodeRegistered?.() ?? true);
  return new PhaseList<unknown>()
    .append('storeShutdown', t('storeShutdownEmergency'))
    .appendWhen(drain, 'drain', t('cordonAndDrainNode'))
    .append('cleanup', t('stopAllPods'))
    .append('dbus', t('stopDBus'))
    .appendList(stopAll(env, false))
    .append('shutdown', t('shutdown')).phases;
}

export function resetSequence(env: SequenceEnvironment, req: Pick<ResetRequest, 'graceful' | 'reboot' | 'systemPartitionsToWipe' | 'userDisksToWipe' | 'mode'>): Phase<unknown>[] {
  const t = (n: TaskName) => task(env, n);
  const list = new PhaseList<unknown>();
  if (env.mode === 'container') return list.appendList(stopAll(env, false)).append('shutdown', t('shutdown')).phases;
  if (env.mode === 'process') {
    // a process node is wiped like a machine: it leaves etcd (graceful, control plane) and the discovery service first
    list
      .appendWhen(req.graceful && (env.controlPlane?.() ?? false), 'leave', t('leaveEtcd'))
      .append('preReset', t('sendResetSignal'))
      .appendList(stopAll(env, false));
    if (req.systemPartitionsToWipe.length === 0 && req.mode !== ResetRequest_WipeMode.USER_DISKS) list.append('reset', t('resetSystemDisk'));
    else if (req.systemPartitionsToWipe.length > 0) list.append('resetSpec', t('resetSystemDiskSpec'));
    return (req.reboot ? list.append('reboot', t('reboot')) : list.append('shutdown', t('shutdown'))).phases;
  }
  const registered = env.nodeRegistered?.() ?? true;
  const kexec = !(env.resetWipesBoot?.(req as ResetRequest) ?? true) && (env.kexecEnabled?.(RebootRequest_Mode.DEFAULT) ?? false);
  list
    .appendWhen(req.graceful && registered, 'drain', t('cordonAndDrainNode'))
    .append('cleanup', req.graceful ? t('removeAllPods') : t('stopAllPods'))
    .append('dbus', t('stopDBus'))
    .appendWhen(req.graceful && (env.controlPlane?.() ?? false), 'leave', t('leaveEtcd'))
    .append('preReset', t('sendResetSignal'))
    .appendList(stopAll(env, kexec))
    .append('forceCleanup', t('forceCleanup'));
  if (req.systemPartitionsToWipe.length === 0 && req.mode !== ResetRequest_WipeMode.USER_DISKS) list.append('reset', t('resetSystemDisk'));
  else if (req.systemPartitionsToWipe.length > 0) list.append('resetSpec', t('resetSystemDiskSpec'));
  list.appendWhen(req.userDisksToWipe.length > 0, 'resetUserDisks', t('resetUserDisks'));
  return (req.reboot ? list.append('reboot', t('reboot')) : list.append('shutdown', t('shutdown'))).phases;
}

function requestOf<T>(data: unknown, what: string, fallback?: T): T {
  if (data === undefined && fallback !== undefined) return fallback;
  if (typeof data !== 'object' || data === null) throw new SequencerError('BRONZE_SEQUENCER_INVALID_DATA', `invalid sequence data: expected a ${what}`);
  return data as T;
}

/**
 * Talos's sequences over the tasks a node provides: initialize, boot, reboot (data: RebootRequest), shutdown
 * (ShutdownRequest), reset (ResetRequest) and emergencyVolumeCleanup; install and the upgrade sequences come from
 * the environment's hooks (absent hooks answer "sequence not implemented").
 */
export function standardSequences(env: SequenceEnvironment): SequenceDefinitions {
  const defs: SequenceDefinitions = {
    initialize: () => initializeSequence(env),
    boot: () => bootSequence(env),
    reboot: (data) => rebootSequence(env, requestOf<RebootRequest>(data, 'RebootRequest', { mode: RebootRequest_Mode.DEFAULT })),
    shutdown: (data) => shutdownSequence(env, requestOf<ShutdownRequest>(data, 'ShutdownRequest')),
    reset: (data) => resetSequence(env, requestOf<ResetRequest>(data, 'ResetRequest')),
    emergencyVolumeCleanup: () => {
      const t = (n: TaskName) => task(env, n);
      return new PhaseList<unknown>()
        .append('denyNewServices', t('denyNewServices'))
        .append('umount', t('unmountPodMounts'))
        .append('unmountBind', t('unmountSystemDiskBindMounts'))
        .append('unmountPromotable', t('unmountPromotableSystemPartitions'))
        .append('unmountSystem', t('unmountEphemeralPartition'))
        .append('volumeFinalize', t('teardownLifecycle')).phases;
    },
  };
  if (env.install) defs.install = env.install;
  if (env.upgrade) defs.upgrade = env.upgrade;
  if (env.stageUpgrade) defs.stageUpgrade = env.stageUpgrade;
  if (env.maintenanceUpgrade) defs.maintenanceUpgrade = env.maintenanceUpgrade;
  return defs;
}
