import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { EtcdConfigID, type EtcdConfigSpec, EtcdConfigType } from '../../resources/etcd/config.js';
import type { EtcdExtraArgs } from '../../resources/etcd/spec.js';
import { ConfigNamespace, EtcdNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** Talos's default etcd image (the image is shown, not run: the node runs the etcd program it has). */
export const DefaultEtcdImage = 'registry.k8s.io/etcd:v3.6.12';

type EtcdSection = { image?: string; extraArgs?: Record<string, string | string[]>; advertisedSubnets?: string[]; listenSubnets?: string[] };

/** `["10.0.0.0/8", "!10.1.0.0/16"]` → the valid and the excluded subnets. */
function split(subnets: string[] | undefined): { valid?: string[]; exclude: string[] } {
  if (!subnets) return { exclude: [] };
  return { valid: subnets.filter((s) => !s.startsWith('!')), exclude: subnets.filter((s) => s.startsWith('!')).map((s) => s.slice(1)) };
}

/**
 * `etcd.ConfigController`: on control planes, EtcdConfigs `etcd` from `cluster.etcd` (image, extra args, the subnets
 * to advertise and listen on, `!` marking exclusions); nothing on other machines.
 */
export class EtcdConfigController implements Controller {
  readonly name = 'etcd.ConfigController';

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: EtcdConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const type = (await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }))?.spec.type ?? 'unknown';
      if (cfg && isControlPlane(type)) {
        const etcd = ((parsedConfig(cfg).v1alpha1?.cluster as { etcd?: EtcdSection } | undefined)?.etcd ?? {}) as EtcdSection;
        const extraArgs: EtcdExtraArgs = {};
        for (const [k, v] of Object.entries(etcd.extraArgs ?? {})) extraArgs[k] = { values: Array.isArray(v) ? v.map(String) : [String(v)] };
        const adv = split(etcd.advertisedSubnets);
        const listen = split(etcd.listenSubnets);
        const spec: EtcdConfigSpec = {
          advertiseValidSubnets: adv.valid,
          advertiseExcludeSubnets: adv.exclude,
          listenValidSubnets: listen.valid,
          listenExcludeSubnets: listen.exclude,
          image: etcd.image || DefaultEtcdImage,
          extraArgs,
        };
        await r.modify<EtcdConfigSpec>({ namespace: EtcdNamespace, type: EtcdConfigType, id: EtcdConfigID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: EtcdNamespace, type: EtcdConfigType });
      r.resetRestartBackoff();
    }
  }
}
