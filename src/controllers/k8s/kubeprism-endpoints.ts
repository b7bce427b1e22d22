import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type MemberSpec, MemberType } from '../../resources/cluster/member.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { type KubePrismEndpoint, KubePrismEndpointsID, type KubePrismEndpointsSpec, KubePrismEndpointsType } from '../../resources/k8s/kubeprism.js';
import { ClusterNamespace, ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

type Machine = { type?: string };
type Cluster = { controlPlane?: { endpoint?: string; localAPIServerPort?: number } };

/** The host and port of the cluster endpoint URL (443 when it names none); undefined when it is not a URL. */
export function endpointHostPort(endpoint: string): KubePrismEndpoint | undefined {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) return undefined;
  return { host, port: u.port ? Number(u.port) : 443 };
}

/**
 * Where the API server may answer, in order: the cluster endpoint, `localhost` at the local API server port on a
 * control plane, then every address of each discovered control plane member at its API server port.
 */
export function kubePrismEndpointsOf(machine: Machine, cluster: Cluster, members: MemberSpec[]): KubePrismEndpoint[] {
  const out: KubePrismEndpoint[] = [];
  const ce = cluster.controlPlane?.endpoint ? endpointHostPort(cluster.controlPlane.endpoint) : undefined;
  if (ce) out.push(ce);
  if (machine.type === 'controlplane' || machine.type === 'init') out.push({ host: 'localhost', port: cluster.controlPlane?.localAPIServerPort || 6443 });
  for (const m of members) {
    if (!m.controlPlane) continue;
    for (const a of m.addresses) out.push({ host: a, port: m.controlPlane.port });
  }
  return out;
}

/** `k8s.KubePrismEndpointsController`: KubePrismEndpoints `k8s-cluster` from the config and the discovered members. */
export class KubePrismEndpointsController implements Controller {
  readonly name = 'k8s.KubePrismEndpointsController';

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: ClusterNamespace, type: MemberType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: KubePrismEndpointsType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const v1 = cfg ? parsedConfig(cfg).v1alpha1 : undefined;
      const machine = v1?.machine as Machine | undefined;
      const cluster = v1?.cluster as Cluster | undefined;
      if (machine && cluster) {
        const members = (await r.list<MemberSpec>({ namespace: ClusterNamespace, type: MemberType })).map((m) => m.spec);
        const spec: KubePrismEndpointsSpec = { endpoints: kubePrismEndpointsOf(machine, cluster, members) };
        await r.modify<KubePrismEndpointsSpec>({ namespace: K8sNamespace, type: KubePrismEndpointsType, id: KubePrismEndpointsID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: K8sNamespace, type: KubePrismEndpointsType });
      r.resetRestartBackoff();
    }
  }
}
