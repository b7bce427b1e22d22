import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { readFile as readFileAsync } from 'node:fs/promises';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino, { type DestinationStream, multistream } from 'pino';
import { InspectServiceService } from '../api/gen/inspect/inspect.js';
import { GrpcServer } from '../api/h2/grpc-server.js';
import { MachineServiceService } from '../api/gen/machine/machine.js';
import { parsedConfigText } from '../controllers/config/machine-config-cache.js';
import { inspectService } from '../cosi/api/inspect.js';
import { type RunningStateServer, startStateServer } from '../cosi/api/server.js';
import { StateService } from '../api/gen/cosi/state.js';
import { stateService } from '../cosi/api/server.js';
import { ControllerRuntime } from '../cosi/controller/runtime.js';
import { readOnlyView } from '../cosi/filter.js';
import { InMemoryState } from '../cosi/inmem.js';
import { Registry } from '../cosi/registry.js';
import { CosiError } from '../cosi/errors.js';
import { newResource } from '../cosi/resource.js';
import { State } from '../cosi/state.js';
import { MachineTypeController } from '../controllers/config/machine-type.js';
import { AffiliateMergeController } from '../controllers/cluster/affiliate-merge.js';
import { DiscoveryConfigController } from '../controllers/cluster/discovery-config.js';
import { DiscoveryServiceController } from '../controllers/cluster/discovery-service.js';
import { EndpointController } from '../controllers/cluster/endpoint.js';
import { InfoController } from '../controllers/cluster/info.js';
import { LocalAffiliateController } from '../controllers/cluster/local-affiliate.js';
import { MemberController } from '../controllers/cluster/member.js';
import { NodeIdentityController } from '../controllers/cluster/node-identity.js';
import { type MemberSpec, MemberType, nodesOfMembers } from '../resources/cluster/member.js';
import { ClusterNamespace, RuntimeNamespace } from '../resources/namespaces.js';
import { HostnameConfigController } from '../controllers/network/hostname-config.js';
import { HostnameSpecController } from '../controllers/network/hostname-spec.js';
import { HostnameSpecType } from '../resources/network/hostname-spec.js';
import { ProcessNodeAddressController } from '../controllers/network/process-node-address.js';
import { TimeServerConfigController } from '../controllers/network/time-server-config.js';
import { TimeServerMergeController } from '../controllers/network/time-server-merge.js';
import { TimeServerSpecController } from '../controllers/network/time-server-spec.js';
import { metalClock, SyncController } from '../controllers/time/time-status.js';
import { NodeAddressController } from '../controllers/network/node-address.js';
import { OperatorConfigController } from '../controllers/network/operator-config.js';
import { OperatorSpecController } from '../controllers/network/operator-spec.js';
import { LinkSpecController } from '../controllers/network/link-spec.js';
import { AddressSpecController } from '../controllers/network/address-spec.js';
import { RouteSpecController } from '../controllers/network/route-spec.js';
import { OperatorSpecType } from '../resources/network/operator-spec.js';
import { KernelCmdline } from '../platform/cmdline.js';
import { logStateVolume, mountStateVolume, type StateVolumeResult } from '../platform/state-volume.js';
import { waitForFile } from '../platform/wait-file.js';
import { readKmsg } from '../sys/kmsg.js';
import { msBeforeTimeOrigin } from '../sys/procfs/stat-line.js';
import { shortSocketPath } from '../sys/socket-path.js';
import { NetworkStatusController } from '../controllers/network/status.js';
import { AddressStatusController } from '../controllers/network/address-status.js';
import { LinkStatusController } from '../controllers/network/link-status.js';
import { RouteStatusController } from '../controllers/network/route-status.js';
import { AddressConfigController } from '../controllers/network/address-config.js';
import { LayeredMergeController } from '../controllers/network/layered-merge.js';
import { LinkConfigController } from '../controllers/network/link-config.js';
import { RouteConfigController } from '../controllers/network/route-config.js';
import { ResolverConfigController } from '../controllers/network/resolver-config.js';
import { ListMergeController } from '../controllers/network/list-merge.js';
import { ResolverSpecController } from '../controllers/network/resolver-spec.js';
import { EtcFileController } from '../controllers/network/etc-file.js';
import { FilesEtcFileController } from '../controllers/files/etc-file.js';
import { type ResolverSpecSpec, ResolverSpecType } from '../resources/network/resolver-spec.js';
import { type LinkStatusSpec, LinkStatusType } from '../resources/network/link-status.js';
import { ResolverID } from '../resources/network/resolver-status.js';
import { AddressSpecType } from '../resources/network/address-spec.js';
import { LinkSpecType } from '../resources/network/link-spec.js';
import { RouteSpecType } from '../resources/network/route-spec.js';
import { APIServiceConfigController } from '../controllers/runtime/api-service-config.js';
import { MaintenanceConfigController } from '../controllers/runtime/maintenance-config.js';
import { MachineResetSignalID, MachineResetSignalType } from '../resources/runtime/machine-reset-signal.js';
import { MaintenanceID, MaintenanceServiceRequestType } from '../resources/runtime/maintenance.js';
import { MachineStatusController } from '../controllers/runtime/machine-status.js';
import { MachineStatusPublisherController } from '../controllers/runtime/machine-status-publisher.js';
import { ServiceController } from '../controllers/v1alpha1/service.js';
import { KernelParamConfigController } from '../controllers/runtime/kernel-param-config.js';
import { KernelParamSpecController } from '../controllers/runtime/kernel-param-spec.js';
import { APICertSANsController } from '../controllers/secrets/api-cert-sans.js';
import { APID_USER, giveSocket, type ServiceUser, serviceUser, TRUSTD_USER } from './services/users.js';
import { MaintenanceCertSANsController } from '../controllers/secrets/maintenance-cert-sans.js';
import { MaintenanceRootController } from '../controllers/secrets/maintenance-root.js';
import { APICertificatesController } from '../controllers/secrets/api-certificates.js';
import { OSRootController } from '../controllers/secrets/os-root.js';
import { TrustdCertificatesController } from '../controllers/secrets/trustd-certificates.js';
import { KubeletSecretsController } from '../controllers/secrets/kubelet.js';
import { KubernetesRootController } from '../controllers/secrets/kubernetes-root.js';
import { EtcdSecretsController } from '../controllers/secrets/etcd-secrets.js';
import { isControlPlane, type MachineTypeName } from '../resources/config/machine-type.js';
import { OSRootType } from '../resources/secrets/os-root.js';
import { TrustdCertificatesType } from '../resources/secrets/trustd-certificates.js';
import { ActiveID, MachineConfigType } from '../resources/config/machine-config.js';
import { registerAll } from '../resources/index.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../resources/network/hostname-status.js';
import { NodeAddressType } from '../resources/network/node-address.js';
import { APIServiceConfigType } from '../resources/runtime/api-service-config.js';
import { ApiCertificatesType } from '../resources/secrets/api-certificates.js';
import { buildInfo } from '../version.js';
import { machineService } from './api/machine-service.js';
import { MetaStore, metaKeyID } from './meta/index.js';
import { MetaKeyType } from '../resources/runtime/meta-key.js';
import { adminKubeconfig, kubeconfigArchive } from './api/kubeconfig.js';
import { generateClientConfiguration } from './api/client-config.js';
import { acquireConfig, addressReady, type ConfigSource, metalConfigSource } from './acquire.js';
import { ConfigApplier } from './apply.js';
import { ConfigStore } from './config-store.js';
import { EventStream } from './events/index.js';
import { createLogDestination, LogManager } from './logs/index.js';
import { FunctionRunner, ProcessRunner, RestartRunner, Supervisor } from './supervisor/index.js';
import { CGROUPS, setUpSystemCgroups, type SystemCgroup } from './supervisor/system-cgroups.js';
import { RebootCommand, RebootRequested, Sequencer, standardSequences, type TaskSet } from './sequencer/index.js';
import { TaskEvent_Action, type RebootRequest, type ResetRequest, type ShutdownRequest } from '../api/gen/machine/machine.js';
import { resetTargets, wipeVolumes } from './volumes.js';
import { containerdService, criService, type ServiceContext, which } from './services/index.js';
import { etcdService } from './services/etcd.js';
import { etcdPaths } from './etcd/args.js';
import { type EtcdHandlersDeps, etcdHandlers, leaveEtcd } from './etcd/handlers.js';
import { localEtcdClient } from './etcd/local.js';
import { EtcdConfigController } from '../controllers/etcd/etcd-config.js';
import { EtcdSpecController } from '../controllers/etcd/etcd-spec.js';
import { EtcdPKIController } from '../controllers/etcd/pki-status.js';
import { EtcdMemberController } from '../controllers/etcd/etcd-member.js';
import { ImageServiceService } from '../api/gen/machine/image.js';
import { containerHandlers, containerLogs, imageService } from './containerd/handlers.js';
import type { RegistriesConfig } from './containerd/registry.js';
import { criContainerdAddress, systemContainerdAddress } from './services/index.js';
import { kubeletPathsOf, kubeletServiceHost } from './services/kubelet.js';
import { KubeletConfigController } from '../controllers/k8s/kubelet-config.js';
import { KubeletServiceController } from '../controllers/k8s/kubelet-service.js';
import { KubeletSpecController } from '../controllers/k8s/kubelet-spec.js';
import { NodeIPConfigController } from '../controllers/k8s/node-ip-config.js';
import { NodeIPController } from '../controllers/k8s/node-ip.js';
import { KubePrismController } from '../controllers/k8s/kubeprism.js';
import { StaticPodConfigController } from '../controllers/k8s/static-pod-config.js';
import { StaticPodServerController } from '../controllers/k8s/static-pod-server.js';
import { KubePrismConfigController } from '../controllers/k8s/kubeprism-config.js';
import { KubePrismEndpointsController } from '../controllers/k8s/kubeprism-endpoints.js';
import { NodenameController } from '../controllers/k8s/nodename.js';
import { KubeletID, KubeletSpecType, type KubeletSpecSpec } from '../resources/k8s/index.js';
import { udevdService } from './services/udevd.js';
import { TimeServiceService } from '../api/gen/time/time.js';
import { StorageServiceService } from '../api/gen/storage/storage.js';
import { ClusterServiceService } from '../api/gen/cluster/cluster.js';
import { timeService } from './api/time-service.js';
import { storageService } from './api/storage-service.js';
import { clusterService } from './api/cluster-service.js';
import { DisksController } from '../controllers/block/disks.js';
import { type BlockPaths, udevSerialHelper } from '../controllers/block/sysfs-disks.js';

export interface MachinedOptions {
  /**
   * `process` (the default): a node among others on one machine, on its own loopback address, recording its network
   * specs; `metal`: the machine is the node's: network specs are applied, the clock and sysctls are set, the config
   * may come from `talos.config=`, the kernel log is served, and reboot or power-off is left to PID 1
   */
  platform?: 'process' | 'metal';
  /**
   * a real machine: the cgroup v2 mount where machined makes the node's cgroup layout (`/init`, `/system`,
   * `/podruntime`), moves itself into `/init` and puts each service into its group; without it nothing is contained
   */
  cgroupRoot?: string;
  /** the kernel command line (metal; default /proc/cmdline) */
  cmdline?: KernelCmdline;
  /** the node's directory: stored config, sockets, logs */
  stateDir: string;
  /**
   * a real machine: mount the filesystem labelled STATE at `stateDir` first, when there is one, so the stored config
   * and the node identity outlive a reboot (default false)
   */
  stateVolume?: boolean;
  /**
   * a real machine: a file PID 1 creates once it has loaded the kernel modules (disks, filesystems, network cards),
   * which it does while machined starts; the disks are looked at once it exists, or after 60 s
   */
  modulesLoaded?: string;
  /**
   * where the node's disks are read from (sysfs and the /dev/disk links): metal reads the machine's own; a process
   * node has no disks of its own (as Talos in a container) unless a tree is given here (tests)
   */
  disks?: BlockPaths;
  /** where /etc files are written (default `<stateDir>/system/etc`) and, on a real machine, the /etc they are bind-mounted into */
  etc?: { root: string; bindOver?: string };
  /** the process platform: the node's own loopback address (apid listens on it, port 50000 unless `apiPort`); empty on metal */
  address: string;
  apiPort?: number;
  /** trustd's port on control planes (default 50001) */
  trustdPort?: number;
  /** how to start trustd (argv); the bundle's `trustd` role */
  trustdCommand?: string[];
  /** how to start apid (argv); the bundle's `apid` role */
  apidCommand: string[];
  signal: AbortSignal;
  /** another destination for machined's log, besides its own service log (`logs machined`) */
  logStream?: DestinationStream;
}

export interface RunningMachined {
  state: State;
  machineSocket: string;
  sequencer: Sequencer;
  /**
   * Resolves when a reboot, shutdown or reset sequence has brought the node down, with the reboot(2) command to carry
   * out (RebootCommand): PID 1 does it on metal; on the process platform RESTART starts machined again.
   */
  ended: Promise<number>;
  /** resolves once the boot sequence has finished (rejects if it failed or was canceled) */
  booted: Promise<void>;
  /** resolves when a service's log shows `needle` (e.g. apid's "apid serving"), rejects after `timeoutMs` */
  waitForLog(service: string, needle: string, timeoutMs: number): Promise<void>;
  /** the node's service logs (what `Logs` serves) */
  logs: LogManager;
  stop(): Promise<void>;
}

/** How long machined waits for PID 1 to load the kernel modules before it looks at the disks anyway. */
const MODULES_WAIT_MS = 60_000;
/** how long a reset waits for the discovery service to confirm that the node left it */
const RESET_SIGNAL_WAIT_MS = 10_000;

/** The sockets of a node, under its state directory (through a short link when that directory is too deep for one). */
export const socketsOf = (stateDir: string) => ({
  machine: shortSocketPath(join(stateDir, 'machined', 'machine.sock'), ''),
  apidState: shortSocketPath(join(stateDir, 'apid', 'runtime.sock'), ''),
  trustdState: shortSocketPath(join(stateDir, 'trustd', 'runtime.sock'), ''),
});

/**
 * machined on the process platform: the resource store and controllers, the stored machine config, the API on its
 * unix socket (MachineService, the State API under Talos's policy, InspectService), apid's read-only view of the
 * state on apid's own socket, and apid itself under the supervisor.
 */
export async function startMachined(o: MachinedOptions): Promise<RunningMachined> {
  // before anything is written to the state directory (machined's own log is the first)
  const started = performance.now();
  const preOriginMs = msBeforeTimeOrigin();
  let stateVolume: StateVolumeResult | Error | undefined;
  const modulesLoaded = o.modulesLoaded === undefined ? true : await waitForFile(o.modulesLoaded, MODULES_WAIT_MS);
  const modulesMs = performance.now() - started;
  try {
    if (o.stateVolume) stateVolume = mountStateVolume({ target: o.stateDir });
  } catch (e) {
    stateVolume = e as Error;
  }
  const logs = new LogManager({ directory: join(o.stateDir, 'logs') });
  // no `hostname` in every record: the kernel's name changes during the boot, and a line about the hostname says it
  const logger = pino({ level: 'info', base: { pid: process.pid } }, multistream([{ stream: createLogDestination(logs.serviceLog('machined')) }, ...(o.logStream ? [{ stream: o.logStream }] : [])]));
  // where the start went: the process before Node's time origin (exec, the binary's pages), Node's own bootstrap,
  // loading machined's code (ms since the time origin), waiting for PID 1's modules, looking for the STATE volume
  logger.info(
    {
      preOriginMs,
      nodeBootstrapMs: Math.round(performance.nodeTiming.bootstrapComplete),
      codeLoadedMs: Math.round(started),
      ...(o.modulesLoaded === undefined ? {} : { modulesMs: Math.round(modulesMs) }),
      volumeMs: Math.round(performance.now() - started - modulesMs),
    },
    'machined starting',
  );
  if (!modulesLoaded) logger.warn({ path: o.modulesLoaded }, `the kernel modules were not loaded within ${MODULES_WAIT_MS / 1000} s: disks may be missing`);
  if (stateVolume) logStateVolume(logger.child({ component: 'volumes' }), stateVolume);
  const events = new EventStream();
  const state = new State(new InMemoryState());
  const registry = new Registry(state);
  await registerAll(registry);

  const runtime = new ControllerRuntime(state, logger.child({ component: 'controller-runtime' }));
  // the reset sequence waits for it to take the node out of the discovery service
  const discoveryService = new DiscoveryServiceController();
  const apiListen = `${o.address}:${o.apiPort ?? 50000}`;
  // etcd's certificates, data and recovery snapshot: /system/secrets/etcd, /var/lib/etcd on a real machine
  const etcd = etcdPaths({ system: join(o.stateDir, 'system'), var: join(o.stateDir, 'var') });
  // KubePrism listens on 127.0.0.1 on a machine; process nodes share the host's, so each uses its own address
  const kubePrismHost = o.platform === 'metal' ? '127.0.0.1' : o.address;
  /** The controllers of every platform. */
  function commonControllers() {
    return [
      new MachineTypeController(),
      new OSRootController(),
      new APICertSANsController(),
      new MaintenanceRootController(),
      new MaintenanceCertSANsController(),
      new APICertificatesController({ trustdPort: o.trustdPort }),
      new TrustdCertificatesController(),
      new KubernetesRootController(),
      new KubeletSecretsController(kubePrismHost),
      // etcd's peers reach each other from 127.0.0.1 on the process platform
      new EtcdSecretsController({ extraPeerIPs: metal ? [] : ['127.0.0.1'] }),
      new EtcdConfigController(),
      new EtcdPKIController(etcd.pki),
      new EtcdMemberController(async (signal) => {
        const c = await localEtcdClient(state);
        try {
          return (await c.status({ signal, timeoutMs: 5000 })).header?.memberId ?? '0';
        } finally {
          c.close();
        }
      }),
      new APIServiceConfigController(apiListen),
      new MaintenanceConfigController(apiListen),
      new NodeIdentityController(o.stateDir),
      // cluster discovery: this node published through the discovery service, the others merged into members
      new DiscoveryConfigController(),
      new InfoController(),
      new LocalAffiliateController(),
      discoveryService,
      new AffiliateMergeController(),
      new MemberController(),
      new EndpointController(),
      new HostnameConfigController(cmdline),
      new LayeredMergeController('network.HostnameMergeController', HostnameSpecType),
      new TimeServerConfigController(cmdline),
      new TimeServerMergeController(),
      new TimeServerSpecController(),
      // what the config asks of the network, layered and merged into specs
      new LinkConfigController(cmdline),
      new AddressConfigController(cmdline),
      new RouteConfigController(cmdline),
      new LayeredMergeController('network.LinkMergeController', LinkSpecType),
      new LayeredMergeController('network.AddressMergeController', AddressSpecType),
      new LayeredMergeController('network.RouteMergeController', RouteSpecType),
      new ResolverConfigController(cmdline),
      new ListMergeController<ResolverSpecSpec>('network.ResolverMergeController', ResolverSpecType, ResolverID, ['dnsServers']),
      new ResolverSpecController(),
      new FilesEtcFileController(o.etc?.root ?? join(o.stateDir, 'system', 'etc'), o.etc?.bindOver),
      // the kernel's links, addresses and routes as they are (on the process platform: the host's, which the node uses)
      new LinkStatusController(),
      new AddressStatusController(),
      new RouteStatusController(),
      new KernelParamConfigController(),
      new ServiceController(events),
      new MachineStatusController(events),
      new MachineStatusPublisherController(events),
      new KubeletConfigController(),
      new NodenameController(),
      new NodeIPConfigController(),
      new NodeIPController(),
      new KubePrismEndpointsController(),
      new KubePrismConfigController(kubePrismHost),
      new KubePrismController(),
      new StaticPodConfigController(),
      new StaticPodServerController(),
    ];
  }

  /** The process platform: the host's network and kernel are not the node's to change; its address is its own. */
  function processControllers() {
    return [
      new ProcessNodeAddressController(o.address),
      new EtcdSpecController({ listenOnAdvertised: true }),
      new HostnameSpecController('container'),
      new SyncController({ mode: 'container' }),
      new EtcFileController('container'),
      new NetworkStatusController('container'),
      new KernelParamSpecController({ apply: false }),
      ...(o.disks ? [new DisksController({ paths: o.disks, rescanIntervalMs: 1000 })] : []),
    ];
  }

  /** Metal: specs are applied to the kernel, DHCP runs, the clock and the sysctls are set. */
  function metalControllers() {
    return [
      new NodeAddressController(),
      new EtcdSpecController(),
      new HostnameSpecController('metal'),
      new SyncController({ mode: 'metal', ...metalClock() }),
      new EtcFileController('metal'),
      new NetworkStatusController('metal'),
      new KernelParamSpecController({ apply: true }),
      new DisksController({ paths: o.disks, serialHelper: udevSerialHelper() }),
      new OperatorConfigController(cmdline),
      new LayeredMergeController('network.OperatorMergeController', OperatorSpecType),
      new OperatorSpecController(),
      new LinkSpecController(),
      new AddressSpecController(),
      new RouteSpecController(),
    ];
  }

  const metal = o.platform === 'metal';
  // the node's cgroup layout: machined moves into /init, the services into their groups as they start
  const cgroupRoot = o.cgroupRoot !== undefined && setUpSystemCgroups(o.cgroupRoot, process.pid, logger) ? o.cgroupRoot : undefined;
  const cmdline = o.cmdline ?? (metal ? new KernelCmdline(readFileSync('/proc/cmdline', 'utf8').trim()) : undefined);
  for (const c of [
    ...commonControllers(),
    ...(metal ? metalControllers() : processControllers()),
  ]) {
    runtime.register(c);
  }
  runtime.start();

  const store = new ConfigStore(o.stateDir);
  // every start of machined on the process platform is a boot of the node
  const bootId = randomUUID();
  const activePtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
  const activeConfig = async () => ((await state.get(activePtr).catch(() => undefined))?.spec as { text?: string } | undefined)?.text;
  const supervisor = new Supervisor({ events, logger: logger.child({ component: 'supervisor' }) });
  let maintenance = false;
  let endRun!: (cmd: number) => void;
  const ended = new Promise<number>((resolve) => (endRun = resolve));
  // META: the process platform keeps it in its state directory; each tag is mirrored as a MetaKeys resource
  const metaKey = (tag: number) => ({ namespace: 'runtime', type: MetaKeyType, id: metaKeyID(tag) });
  const mirrorMeta = async (tag: number, value: Buffer | undefined) => {
    if (value === undefined) await state.destroy(metaKey(tag)).catch(() => undefined);
    else {
      await state.modify(metaKey(tag), () => ({ value: '' }), (r) => {
        r.spec = { value: value.toString('utf8') };
      });
    }
  };
  const meta = await MetaStore.open(join(o.stateDir, 'META'), { create: true, onChange: (tag, value) => void mirrorMeta(tag, value) });
  for (const [tag, value] of meta.entries()) await mirrorMeta(tag, value);
  const sequencerLog = logger.child({ component: 'sequencer' });
  const sequencer: Sequencer = new Sequencer({
    events,
    logger: sequencerLog,
    definitions: standardSequences({ mode: metal ? 'metal' : 'process', tasks: nodeTasks(), nodeRegistered: () => false, controlPlane: () => controlPlaneNode }),
  });
  const applier = new ConfigApplier(state, store, 'container', logger.child({ component: 'apply' }), {
    reboot: () => void sequencer.start('reboot', { mode: 0 }, { takeover: true }),
    inMaintenance: () => maintenance,
  });
  const sockets = socketsOf(o.stateDir);
  mkdirSync(join(o.stateDir, 'machined'), { recursive: true, mode: 0o700 });
  mkdirSync(join(o.stateDir, 'apid'), { recursive: true, mode: 0o700 });
  mkdirSync(join(o.stateDir, 'trustd'), { recursive: true, mode: 0o700 });
  // apid and trustd run as their own users (50, 51) where they can: the sockets they use are handed to them
  const apidUser = serviceUser('apid', APID_USER, o.apidCommand, [o.stateDir, dirname(sockets.machine), dirname(sockets.apidState)], logger);
  const trustdUser = o.trustdCommand ? serviceUser('trustd', TRUSTD_USER, o.trustdCommand, [o.stateDir, dirname(sockets.trustdState)], logger) : undefined;
  // whether the node has its machine config (Version's features say so), followed in memory
  let hasConfig = false;
  const configWatch = new AbortController();
  void (async () => {
    for await (const ev of await state.watch(activePtr, {}, configWatch.signal)) {
      if (ev.type !== 'errored') hasConfig = ev.type !== 'destroyed' && ev.resource !== undefined;
    }
  })().catch((e: unknown) => {
    if (!configWatch.signal.aborted) logger.warn({ err: (e as Error).message }, 'following the machine config failed');
  });
  const configured = () => hasConfig;
  let etcdMachineType: MachineTypeName = 'controlplane';
  /** the config's machine type is a control plane's (known once the services start) */
  let controlPlaneNode = false;
  const lifecycle = {
    reboot: (req: RebootRequest) => sequencer.start('reboot', req).actorId,
    shutdown: (req: ShutdownRequest) => sequencer.start('shutdown', req, { takeover: true }).actorId,
    reset: (req: ResetRequest) => {
      resetTargets(req);
      return sequencer.start('reset', req).actorId;
    },
  };
  // the containerd instances the container and image APIs talk to (their paths are the services'), and the registry
  // mirrors of the config
  const registries = async () => {
    const text = await activeConfig();
    return text ? (parsedConfigText(text).v1alpha1?.machine?.registries as RegistriesConfig | undefined) : undefined;
  };
  const containerDeps = {
    addresses: {
      get system() {
        return systemContainerdAddress(serviceContext);
      },
      get cri() {
        return criContainerdAddress(serviceContext);
      },
    },
    registries,
    logger: logger.child({ component: 'containers' }),
  };
  const etcdDeps: EtcdHandlersDeps = {
    state,
    logger: logger.child({ component: 'etcd' }),
    paths: etcd,
    supervisor,
    bootstrapService: ({ recover }) => etcdService(serviceContext, { paths: etcd, machineType: etcdMachineType, bootstrap: true, recover }),
  };
  const machineAPI = machineService({
      logger: logger.child({ component: 'api' }),
      build: buildInfo(),
      platform: metal ? { name: 'metal', mode: 'metal' } : { name: 'process', mode: 'container' },
      configured,
      hostname: async () => {
        const h = await state.get({ namespace: 'network', type: HostnameStatusType, id: HostnameID }).catch(() => undefined);
        return (h?.spec as HostnameStatusSpec | undefined)?.hostname ?? '';
      },
      logs,
      containerLogs: (req, signal) => containerLogs(containerDeps, req, signal),
      events,
      services: supervisor,
      apply: (req) => applier.apply(req),
      lifecycle,
      // a process node's boot id is its own; on metal it is the kernel's
      nodeFiles: metal ? undefined : { '/proc/sys/kernel/random/boot_id': () => Buffer.from(`${bootId}\n`) },
      dmesg: metal ? (req, signal) => readKmsg({ follow: req.follow, tail: req.tail, signal }) : undefined,
      meta,
      clientConfiguration: async (req) => generateClientConfiguration(await activeConfig(), req),
      kubeconfig: async () => kubeconfigArchive(await adminKubeconfig(await activeConfig())),
      overrides: {
        ...containerHandlers(containerDeps),
        ...etcdHandlers(etcdDeps),
      },
  });
  const stateAPI = stateService({ state, registry, logger, apiPolicy: true });
  const inspectAPI = inspectService(runtime);
  let apiServing!: () => void;
  const apiUp = new Promise<void>((resolve) => (apiServing = resolve));
  /** machined's own service: its API on the unix socket, served while the service runs */
  const serveAPI = async (signal: AbortSignal) => {
    const api = new GrpcServer({ maxReceiveMessageLength: 32 * 1024 * 1024, logger: logger.child({ component: 'machined-api' }) });
    api.addService(MachineServiceService, machineAPI);
    api.addService(StateService, stateAPI);
    api.addService(InspectServiceService, inspectAPI);
    api.addService(ImageServiceService, imageService(containerDeps));
    api.addService(TimeServiceService, timeService({ logger: logger.child({ component: 'time-api' }), config: activeConfig }));
    api.addService(StorageServiceService, storageService({ logger: logger.child({ component: 'storage-api' }), state }));
    api.addService(
      ClusterServiceService,
      clusterService({
        logger: logger.child({ component: 'cluster-api' }),
        config: activeConfig,
        apiEndpoint: `${o.address || '127.0.0.1'}:${o.apiPort ?? 50000}`,
        discoveredNodes: async () => nodesOfMembers((await state.list({ namespace: ClusterNamespace, type: MemberType })).map((m) => m.spec as MemberSpec)),
      }),
    );
    rmSync(sockets.machine, { force: true });
    await api.listen(sockets.machine);
    giveSocket(sockets.machine, apidUser);
    logger.info({ socket: sockets.machine }, 'machined API serving');
    apiServing();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    // calls in flight (followed logs, events) get a moment to end, then the rest is cut
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        api.forceShutdown();
        resolve();
      }, 2000);
      void api.shutdown().then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  };

  // apid sees only what it needs, read-only
  const apidView = readOnlyView(state, [
    { namespace: 'runtime', type: APIServiceConfigType },
    { namespace: 'secrets', type: ApiCertificatesType },
    { namespace: 'network', type: NodeAddressType },
    { namespace: 'network', type: HostnameStatusType },
  ]);
  const apidState: RunningStateServer = await startStateServer({ state: apidView, registry, logger, listen: [{ unix: sockets.apidState }] });
  giveSocket(sockets.apidState, apidUser);
  // trustd reads its certificate, and the OS CA and token it signs with
  const trustdView = readOnlyView(state, [
    { namespace: 'secrets', type: TrustdCertificatesType },
    { namespace: 'secrets', type: OSRootType },
  ]);
  const trustdState: RunningStateServer = await startStateServer({ state: trustdView, registry, logger, listen: [{ unix: sockets.trustdState }] });
  giveSocket(sockets.trustdState, trustdUser);

  const serviceContext: ServiceContext = {
    state,
    logs,
    logger,
    cgroup: cgroupRoot === undefined ? undefined : (group) => ({ path: group, root: cgroupRoot, system: true }),
    paths: { systemRun: join(o.stateDir, 'system', 'run'), systemVar: join(o.stateDir, 'system', 'var'), run: join(o.stateDir, 'run'), etc: join(o.stateDir, 'etc'), var: join(o.stateDir, 'var') },
    which,
  };
  // the kubelet: its spec from the KubeletConfig, node name and IPs; run (and restarted on change) while it exists,
  // not waited for by the boot (its image may take long, or never come), a failed start retried
  runtime.register(new KubeletSpecController({ paths: kubeletPathsOf(serviceContext.paths), mode: metal ? 'metal' : 'container' }));
  const kubeletSpec = async () => (await state.get({ namespace: 'k8s', type: KubeletSpecType, id: KubeletID }).catch(() => undefined))?.spec as KubeletSpecSpec | undefined;
  runtime.register(new KubeletServiceController(kubeletServiceHost(supervisor, serviceContext, { spec: kubeletSpec, registries, signal: configWatch.signal })));
  const service = (id: string, args: string[], user: ServiceUser | undefined, group: SystemCgroup) => ({
    id,
    runner: () =>
      new RestartRunner(new ProcessRunner({ id, args, uid: user?.uid, gid: user?.gid, log: logs.serviceLog(id), gracefulShutdownTimeout: 5000, logger, lifeline: true, cgroup: serviceContext.cgroup?.(group) }), {
        policy: 'Forever',
        initialDelay: 1000,
      }),
  });

  /** The tasks of the node's sequences. */
  function nodeTasks(): TaskSet {
    return {
      startMachined: async ({ signal }) => {
        await supervisor.loadAndStart({ id: 'machined', runner: () => new FunctionRunner('machined', serveAPI) });
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new Error('starting machined: canceled'));
          if (signal.aborted) onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          void apiUp.then(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          });
        });
      },
      startApid: async () => {
        await supervisor.loadAndStart(service('apid', [...o.apidCommand, '--state-socket', sockets.apidState, '--machined-socket', sockets.machine, '--peer-port', String(o.apiPort ?? 50000)], apidUser, CGROUPS.apid));
      },
      loadConfig: async ({ signal }) => {
        // the state directory is STATE; metal also looks at talos.config=
        const sources: ConfigSource[] = [{ name: 'disk', load: async () => store.read() }];
        if (metal) sources.push(metalConfigSource(cmdline?.configURL, { networkReady: addressReady(state), logger, values: configURLValues(), onAttemptError: (e, n) => logger.warn({ attempt: n, err: e.message }, 'downloading the config failed') }));
        const got = await acquireConfig(sources, { signal, logger });
        if (got.kind === 'config') {
          if (got.source !== 'disk') store.write(Buffer.from(got.text));
          await state.create(newResource(activePtr, { text: got.text }, { annotations: { 'talos.dev/yaml-spec': '1' } }));
          logger.info({ path: store.path, source: got.source }, 'machine config loaded');
          return;
        }
        // nothing usable: wait in maintenance until ApplyConfiguration brings a config
        logger.warn({ path: store.path }, 'no machine config stored: waiting for one to be applied (maintenance)');
        maintenance = true;
        const request = { namespace: 'runtime', type: MaintenanceServiceRequestType, id: MaintenanceID };
        await state.create(newResource(request, {}));
        events.publish('machine.TaskEvent', { task: 'runningMaintenance', action: TaskEvent_Action.START });
        try {
          await state.watchFor(activePtr, (r) => r !== undefined, signal);
        } finally {
          await state.destroy(request).catch(() => undefined);
          maintenance = false;
          events.publish('machine.TaskEvent', { task: 'runningMaintenance', action: TaskEvent_Action.STOP });
        }
        logger.info('machine config applied in maintenance');
      },
      startContainerd: async () => {
        await supervisor.loadAndStart(containerdService(serviceContext));
      },
      startAllServices: async ({ signal }) => {
        const text = await activeConfig();
        const parsed = text !== undefined ? parsedConfigText(text) : undefined;
        const machineType = (parsed?.machineType || 'unknown') as MachineTypeName;
        controlPlaneNode = isControlPlane(machineType);
        await supervisor.loadAndStart(udevdService(serviceContext, { platform: metal ? 'metal' : 'process', rules: async () => parsed?.v1alpha1?.machine?.udev?.rules ?? [] }));
        await supervisor.loadAndStart(criService(serviceContext, { registries }));
        // etcd on control planes whose config has the etcd CA; it waits for `bootstrap` or joins on its own, so the
        // boot does not wait for it (Talos's does: a lone control plane would never finish booting before bootstrap)
        if (isControlPlane(machineType) && parsed?.v1alpha1?.cluster?.etcd?.ca?.crt) {
          etcdMachineType = machineType;
          await supervisor.loadAndStart(etcdService(serviceContext, { paths: etcd, machineType }));
        }
        if (isControlPlane(machineType) && o.trustdCommand) {
          await supervisor.loadAndStart(service('trustd', [...o.trustdCommand, '--state-socket', sockets.trustdState, '--listen', `${o.address}:${o.trustdPort ?? 50001}`], trustdUser, CGROUPS.trustd));
        }
        const ids = supervisor.list().map((s) => s.id).filter((id) => id !== 'etcd' && id !== 'kubelet');
        logger.info({ services: ids }, `waiting for ${ids.length} services`);
        await supervisor.waitUp(ids, signal);
      },
      stopAllServices: async () => {
        await supervisor.shutdown();
      },
      leaveEtcd: async ({ signal }) => {
        await leaveEtcd(etcdDeps, signal);
      },
      sendResetSignal: async ({ signal }) => {
        await state.create(newResource({ namespace: RuntimeNamespace, type: MachineResetSignalType, id: MachineResetSignalID }, {})).catch((e: unknown) => {
          if (!(e instanceof CosiError && e.code === 'BRONZE_COSI_ALREADY_EXISTS')) throw e;
        });
        // the node leaves the discovery service before its state goes; a service that cannot be reached does not hold
        // the reset up for long
        const timer = new AbortController();
        const gaveUp = await Promise.race([
          discoveryService.resetHandled().then(() => false),
          delay(RESET_SIGNAL_WAIT_MS, true, { signal: AbortSignal.any([signal, timer.signal]) }).catch(() => false),
        ]);
        timer.abort();
        if (gaveUp) logger.warn({ ms: RESET_SIGNAL_WAIT_MS }, 'the discovery service did not confirm that this node left it');
      },
      resetSystemDisk: async () => {
        logger.info({ wiped: await wipeVolumes(o.stateDir, resetTargets({ mode: 0, systemPartitionsToWipe: [], userDisksToWipe: [] })) }, 'reset: system volumes wiped');
      },
      resetSystemDiskSpec: async ({ data }) => {
        const req = data as ResetRequest;
        logger.info({ wiped: await wipeVolumes(o.stateDir, resetTargets(req)) }, 'reset: volumes wiped');
      },
      reboot: async () => {
        endRun(RebootCommand.RESTART);
        throw new RebootRequested(RebootCommand.RESTART);
      },
      shutdown: async () => {
        endRun(RebootCommand.POWER_OFF);
        throw new RebootRequested(RebootCommand.POWER_OFF);
      },
    };
  }

  /** What a talos.config URL may ask for: the SMBIOS UUID and serial, the first link's MAC, the hostname, META's code. */
  function configURLValues() {
    const dmi = (f: string) => async () => {
      try {
        return (await readFileAsync(`/sys/class/dmi/id/${f}`, 'utf8')).trim();
      } catch {
        return '';
      }
    };
    return {
      uuid: dmi('product_uuid'),
      serial: dmi('product_serial'),
      mac: async () => {
        const links = await state.list({ namespace: 'network', type: LinkStatusType });
        const first = links.map((l) => l.spec as LinkStatusSpec).filter((l) => l.type === 'ether' && l.kind === '' && l.flags.split(',').includes('UP')).sort((a, b) => a.index - b.index)[0];
        return first?.hardwareAddr ?? '';
      },
      hostname: async () => ((await state.get({ namespace: 'network', type: HostnameStatusType, id: HostnameID }).catch(() => undefined))?.spec as HostnameStatusSpec | undefined)?.hostname ?? '',
      code: () => meta.get(0x0b)?.toString('utf8') ?? '',
    };
  }

  const booted = (async () => {
    await sequencer.run('initialize');
    await sequencer.run('boot');
  })();
  booted.catch((e: unknown) => sequencerLog.warn({ err: (e as Error).message }, 'boot did not finish'));
  // the API is up (or the boot failed before it could be) when startMachined returns
  await Promise.race([apiUp, booted.catch(() => undefined)]);

  let stopping: Promise<void> | undefined;
  const stopOnce = async () => {
    configWatch.abort();
    await sequencer.cancel();
    await supervisor.shutdown();
    await apidState.close(1000);
    await trustdState.close(1000);
    applier.close();
    await runtime.stop();
    await logs.close();
  };
  const stop = () => (stopping ??= stopOnce());
  o.signal.addEventListener('abort', () => void stop(), { once: true });
  const waitForLog = async (service: string, needle: string, timeoutMs: number) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      let text = '';
      for await (const chunk of logs.serviceLog(service).read({ follow: true, signal: ac.signal })) {
        text += chunk.toString('utf8');
        if (text.includes(needle)) return;
      }
      throw new Error(`${service} did not log "${needle}" within ${timeoutMs} ms: ${text.slice(-2000)}`);
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  };
  return { state, machineSocket: sockets.machine, sequencer, ended, booted, waitForLog, logs, stop };
}
