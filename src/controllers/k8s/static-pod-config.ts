import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { type StaticPodSpec, StaticPodType } from '../../resources/k8s/static-pod.js';
import { ConfigNamespace, K8sNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** The StaticPod ID of a pod manifest (`<namespace>-<name>`, namespace `default` when unset), or why it has none. */
export function staticPodID(pod: unknown): string | { error: string } {
  const meta = (pod as { metadata?: unknown } | null)?.metadata;
  if (typeof meta !== 'object' || meta === null) return { error: 'metadata is missing' };
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string' || name === '') return { error: 'metadata.name is missing' };
  if (namespace !== undefined && typeof namespace !== 'string') return { error: 'metadata.namespace is not a string' };
  return `${namespace || 'default'}-${name}`;
}

/**
 * `k8s.StaticPodConfigController`: a StaticPod for each pod of `machine.pods`. A pod without a name is left out,
 * with a warning naming its place in the config.
 */
export class StaticPodConfigController implements Controller {
  readonly name = 'k8s.StaticPodConfigController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: StaticPodType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      r.startTrackingOutputs();
      const pods = cfg ? ((parsedConfig(cfg).v1alpha1?.machine as { pods?: unknown[] } | undefined)?.pods ?? []) : [];
      for (const [i, pod] of pods.entries()) {
        const id = staticPodID(pod);
        if (typeof id !== 'string') {
          log.warn({ path: `.machine.pods[${i}]`, err: id.error }, `.machine.pods[${i}]: ${id.error}: the pod is left out`);
          continue;
        }
        const spec: StaticPodSpec = { pod: structuredClone(pod) as Record<string, unknown> };
        await r.modify<StaticPodSpec>({ namespace: K8sNamespace, type: StaticPodType, id }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: K8sNamespace, type: StaticPodType });
      r.resetRestartBackoff();
    }
  }
}
