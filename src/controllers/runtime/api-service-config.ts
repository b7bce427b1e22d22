import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { ConfigNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { APIServiceConfigID, type APIServiceConfigSpec, APIServiceConfigType } from '../../resources/runtime/api-service-config.js';

/**
 * apid's settings: once the node has a machine config, apid serves with client certificates and routing on the
 * platform's API address (`:50000` on metal, the node's own loopback address on the process platform). Without a
 * config the resource is absent (maintenance mode is served from its own settings).
 */
export class APIServiceConfigController implements Controller {
  readonly name = 'runtime.APIServiceConfigController';

  constructor(private readonly listenAddress: string) {}

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: APIServiceConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const ptr = { namespace: RuntimeNamespace, type: APIServiceConfigType, id: APIServiceConfigID };
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      if (await r.getOptional({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID })) {
        await r.modify<APIServiceConfigSpec>(ptr, () => ({ listenAddress: '', nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false }), (o) => {
          o.spec = { listenAddress: this.listenAddress, nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false };
        });
      }
      await r.cleanupOutputs({ namespace: RuntimeNamespace, type: APIServiceConfigType });
    }
  }
}
