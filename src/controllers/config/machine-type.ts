import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { MachineTypeID, type MachineTypeName, type MachineTypeSpec, MachineTypes, MachineTypeType } from '../../resources/config/machine-type.js';
import { ConfigNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from './machine-config-cache.js';

/** MachineType from the active machine config's `machine.type` (`unknown` without a config). */
export class MachineTypeController implements Controller {
  readonly name = 'config.MachineTypeController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: MachineTypeType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      let type: MachineTypeName = 'unknown';
      if (cfg) {
        const t = parsedConfig(cfg).machineType;
        type = (MachineTypes.pairs.some(([n]) => n === t) ? t : 'unknown') as MachineTypeName;
      }
      await r.modify<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }, () => ({ type: 'unknown' }), (m) => {
        m.spec.type = type;
      });
      r.resetRestartBackoff();
    }
  }
}
