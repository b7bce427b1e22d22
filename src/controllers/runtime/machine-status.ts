import type { Logger } from 'pino';
import { Code } from '../../api/gen/common/common.js';
import { PhaseEvent_Action, SequenceEvent_Action, TaskEvent_Action } from '../../api/gen/machine/machine.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { isControlPlane, MachineTypeID, type MachineTypeName, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { ConfigNamespace, K8sNamespace, NetworkNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../../resources/network/status.js';
import { MachineStatusID, type MachineStageName, type MachineStatusSpec, MachineStatusType, type UnmetCondition } from '../../resources/runtime/machine-status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import { type ServiceSpec, ServiceType } from '../../resources/v1alpha1/service.js';

const NodenameType = 'Nodenames.kubernetes.talos.dev';
const NodenameID = 'nodename';
const NodeStatusType = 'NodeStatuses.kubernetes.talos.dev';
const StaticPodStatusType = 'StaticPodStatuses.kubernetes.talos.dev';

/** machined's event stream, read from the oldest event kept. */
export interface MachineEventSource {
  watch(opts: { tailEvents: number; signal: AbortSignal }): AsyncIterable<{ type: string; message: unknown }>;
}

/**
 * Follows the stage of the machine through the event stream: sequences starting (initialize/boot → booting, reboot,
 * shutdown, reset, upgrades), maintenance (the runningMaintenance task), a fatal sequence failure (rebooting) and the
 * boot sequence finishing well (running). Returns the new stage, or the old one when the event changes nothing.
 */
export class StageTracker {
  stage: MachineStageName = 'unknown';
  private sequence = '';

  apply(type: string, message: unknown): MachineStageName {
    const m = message as { sequence?: string; action?: number; error?: { code: number }; phase?: string; task?: string };
    switch (type) {
      case 'machine.SequenceEvent':
        if (m.action === SequenceEvent_Action.START) {
          this.sequence = m.sequence ?? '';
          const next: Record<string, MachineStageName> = {
            boot: 'booting',
            initialize: 'booting',
            shutdown: 'shutting down',
            upgrade: 'upgrading',
            stageUpgrade: 'upgrading',
            maintenanceUpgrade: 'upgrading',
            reset: 'resetting',
            reboot: 'rebooting',
          };
          this.stage = next[this.sequence] ?? this.stage;
        } else if (m.action === SequenceEvent_Action.NOOP) {
          if (m.error?.code === Code.FATAL && this.sequence !== 'shutdown') this.stage = 'rebooting';
        } else if (m.action === SequenceEvent_Action.STOP) {
          if (m.sequence === 'boot' && m.error === undefined) this.stage = 'running';
          this.sequence = '';
        }
        break;
      case 'machine.PhaseEvent':
        if (m.action === PhaseEvent_Action.START) {
          if (this.sequence === 'install' && m.phase === 'install') this.stage = 'installing';
          else if (['install', 'upgrade', 'stageUpgrade', 'maintenanceUpgrade'].includes(this.sequence) && m.phase === 'kexec') this.stage = 'rebooting';
        }
        break;
      case 'machine.TaskEvent':
        if (m.task === 'runningMaintenance') this.stage = m.action === TaskEvent_Action.START ? 'maintenance' : 'booting';
        break;
    }
    return this.stage;
  }
}

/**
 * `MachineStatuses.runtime.talos.dev/machine`: the stage from the event stream and, while booting or running, whether
 * the machine is ready: time synced, network ready, the required services running and healthy (apid, machined,
 * kubelet; etcd and trustd on control planes), static pods ready, the Kubernetes node ready; each check that fails
 * is an unmet condition with its reason.
 */
export class MachineStatusController implements Controller {
  readonly name = 'runtime.MachineStatusController';
  private readonly tracker = new StageTracker();

  constructor(private readonly source: MachineEventSource) {}

  inputs(): Input[] {
    return [
      { namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NetworkStatusType, id: NetworkStatusID, kind: 'weak' },
      { namespace: RuntimeNamespace, type: ServiceType, kind: 'weak' },
      { namespace: K8sNamespace, type: StaticPodStatusType, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
      { namespace: K8sNamespace, type: NodenameType, id: NodenameID, kind: 'weak' },
      { namespace: K8sNamespace, type: NodeStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: MachineStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    const follow = (async () => {
      for await (const ev of this.source.watch({ tailEvents: -1, signal })) {
        const before = this.tracker.stage;
        if (this.tracker.apply(ev.type, ev.message) !== before) r.queueReconcile();
      }
    })();
    follow.catch((e: unknown) => log.error({ err: (e as Error).message }, 'following the event stream failed'));
    let announced = false;
    for await (const _ of r.events()) {
      const stage = this.tracker.stage;
      const machineType: MachineTypeName = (await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }))?.spec.type ?? 'unknown';
      const unmet: UnmetCondition[] = [];
      if (stage === 'booting' || stage === 'running') {
        const required = ['apid', 'machined', 'kubelet', ...(isControlPlane(machineType) ? ['etcd', 'trustd'] : [])];
        for (const [name, check] of [
          ['time', () => this.timeCheck(r)],
          ['network', () => this.networkCheck(r)],
          ['services', () => this.servicesCheck(r, required)],
          ['staticPods', () => this.staticPodsCheck(r)],
          ['nodeReady', () => this.nodeReadyCheck(r)],
        ] as const) {
          const reason = await check();
          if (reason !== undefined) unmet.push({ name, reason });
        }
      }
      const spec: MachineStatusSpec = { stage, status: { ready: unmet.length === 0, unmetConditions: unmet } };
      await r.modify<MachineStatusSpec>({ namespace: RuntimeNamespace, type: MachineStatusType, id: MachineStatusID }, () => spec, (o) => {
        o.spec = spec;
      });
      if (stage === 'running' && unmet.length === 0 && !announced) {
        announced = true;
        log.info('machine is running and ready');
      }
      r.resetRestartBackoff();
    }
    await follow;
  }

  private async timeCheck(r: ControllerAdapter): Promise<string | undefined> {
    const ptr = { namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID };
    const s = await r.getOptional<{ synced: boolean }>(ptr);
    if (!s) return `resource ${TimeStatusType}(${RuntimeNamespace}/${TimeStatusID}) doesn't exist`;
    return s.spec.synced ? undefined : 'time is not synced';
  }

  private async networkCheck(r: ControllerAdapter): Promise<string | undefined> {
    const s = await r.getOptional<NetworkStatusSpec>({ namespace: NetworkNamespace, type: NetworkStatusType, id: NetworkStatusID });
    if (!s) return `resource ${NetworkStatusType}(${NetworkNamespace}/${NetworkStatusID}) doesn't exist`;
    const waiting = [
      ['address', s.spec.addressReady],
      ['connectivity', s.spec.connectivityReady],
      ['etc-files', s.spec.etcFilesReady],
      ['hostname', s.spec.hostnameReady],
    ]
      .filter(([, ok]) => !ok)
      .map(([n]) => n);
    return waiting.length === 0 ? undefined : `waiting on: ${waiting.join(', ')}`;
  }

  private async servicesCheck(r: ControllerAdapter, required: string[]): Promise<string | undefined> {
    const problems: string[] = [];
    const running = new Set<string>();
    for (const svc of await r.list<ServiceSpec>({ namespace: RuntimeNamespace, type: ServiceType })) {
      const id = svc.metadata.id;
      if (!svc.spec.running) {
        problems.push(`${id} not running`);
        continue;
      }
      running.add(id);
      if (!svc.spec.unknown && !svc.spec.healthy) problems.push(`${id} not healthy`);
    }
    for (const id of required) if (!running.has(id)) problems.push(`${id} not running`);
    return problems.length === 0 ? undefined : problems.join(', ');
  }

  private async staticPodsCheck(r: ControllerAdapter): Promise<string | undefined> {
    const problems: string[] = [];
    for (const pod of await r.list<{ podStatus?: { phase?: string; conditions?: { type?: string; status?: string }[] } }>({ namespace: K8sNamespace, type: StaticPodStatusType })) {
      const phase = pod.spec.podStatus?.phase ?? 'Unknown';
      if (phase === 'Pending' || phase === 'Failed' || phase === 'Unknown') problems.push(`${pod.metadata.id} ${phase.toLowerCase()}`);
      else if (phase === 'Running' && pod.spec.podStatus?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') problems.push(`${pod.metadata.id} not ready`);
    }
    return problems.length === 0 ? undefined : problems.join(', ');
  }

  private async nodeReadyCheck(r: ControllerAdapter): Promise<string | undefined> {
    const nodename = await r.getOptional<{ nodename: string; skipNodeRegistration?: boolean }>({ namespace: K8sNamespace, type: NodenameType, id: NodenameID });
    if (!nodename || nodename.spec.skipNodeRegistration) return undefined;
    const status = await r.getOptional<{ nodeReady: boolean }>({ namespace: K8sNamespace, type: NodeStatusType, id: nodename.spec.nodename });
    if (!status) return `node ${JSON.stringify(nodename.spec.nodename)} status is not available yet`;
    return status.spec.nodeReady ? undefined : `node ${JSON.stringify(nodename.spec.nodename)} is not ready`;
  }
}
