import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { InfoID, type InfoSpec, InfoType } from '../../resources/cluster/info.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ClusterNamespace, ConfigNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** `cluster.InfoController`: Info `current`, the cluster's id and name from the active config. */
export class InfoController implements Controller {
  readonly name = 'cluster.InfoController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: InfoType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const cluster = cfg ? (parsedConfig(cfg).v1alpha1?.cluster as { id?: string; clusterName?: string } | undefined) : undefined;
      if (cluster) {
        const spec: InfoSpec = { clusterId: cluster.id ?? '', clusterName: cluster.clusterName ?? '' };
        await r.modify<InfoSpec>({ namespace: ClusterNamespace, type: InfoType, id: InfoID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: ClusterNamespace, type: InfoType });
    }
  }
}
