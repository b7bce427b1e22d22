import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { type KernelParamSpecSpec, KernelParamSpecType } from '../../resources/runtime/kernel-param.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** KernelParamSpecs from the config's `machine.sysctls`, one per key. */
export class KernelParamConfigController implements Controller {
  readonly name = 'runtime.KernelParamConfigController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: KernelParamSpecType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const sysctls = cfg ? ((parsedConfig(cfg).v1alpha1?.machine as { sysctls?: Record<string, string> } | undefined)?.sysctls ?? {}) : {};
      for (const [key, value] of Object.entries(sysctls)) {
        const spec: KernelParamSpecSpec = { value: String(value), ignoreErrors: false };
        await r.modify<KernelParamSpecSpec>({ namespace: RuntimeNamespace, type: KernelParamSpecType, id: key }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: RuntimeNamespace, type: KernelParamSpecType });
    }
  }
}
