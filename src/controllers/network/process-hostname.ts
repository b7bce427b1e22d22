import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/**
 * HostnameStatus on the process platform, where the host's hostname is not changed: the name the machine config
 * gives (`machine.network.hostname`, or a HostnameConfig document's `hostname`), else Talos's address-based default
 * `talos-<address with dashes>`.
 */
export class ProcessHostnameController implements Controller {
  readonly name = 'network.HostnameSpecController';

  constructor(private readonly address: string) {}

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: HostnameStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      let name = '';
      if (cfg) {
        const mc = parsedConfig(cfg);
        const net = mc.v1alpha1?.machine?.network as { hostname?: string } | undefined;
        const doc = mc.find('HostnameConfig');
        name = net?.hostname || ((doc?.value as { hostname?: string } | undefined)?.hostname ?? '');
      }
      if (!name) name = `talos-${this.address.replace(/[.:]/g, (c) => (c === '.' ? '-' : ''))}`;
      const dot = name.indexOf('.');
      const spec: HostnameStatusSpec = dot > 0 ? { hostname: name.slice(0, dot), domainname: name.slice(dot + 1) } : { hostname: name, domainname: '' };
      await r.modify<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID }, () => ({ hostname: '', domainname: '' }), (o) => {
        o.spec = spec;
      });
    }
  }
}
