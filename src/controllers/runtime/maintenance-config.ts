import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { NodeAddressCurrentID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { MaintenanceID, type MaintenanceServiceConfigSpec, MaintenanceServiceConfigType } from '../../resources/runtime/maintenance.js';

/**
 * `runtime.MaintenanceConfigController`: where the maintenance API listens (`:50000` on metal, the node's own
 * address on the process platform) and the node's current addresses, which its certificate is made for.
 */
export class MaintenanceConfigController implements Controller {
  readonly name = 'runtime.MaintenanceConfigController';

  constructor(private readonly listenAddress: string) {}

  inputs(): Input[] {
    return [{ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: MaintenanceServiceConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const current = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID });
      const spec: MaintenanceServiceConfigSpec = { listenAddress: this.listenAddress, reachableAddresses: (current?.spec.addresses ?? []).map((a) => a.split('/')[0]!) };
      await r.modify<MaintenanceServiceConfigSpec>({ namespace: RuntimeNamespace, type: MaintenanceServiceConfigType, id: MaintenanceID }, () => spec, (o) => {
        o.spec = spec;
      });
      r.resetRestartBackoff();
    }
  }
}
