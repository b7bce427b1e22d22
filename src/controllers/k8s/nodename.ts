import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { NodenameID, type NodenameSpec, NodenameType } from '../../resources/k8s/nodename.js';
import { ConfigNamespace, K8sNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { parsedConfig } from '../config/machine-config-cache.js';

export class NodenameError extends Error {
  readonly code = 'BRONZE_NODENAME';
}

/** The Kubernetes node name of a hostname: lower case, and not empty. */
export function nodenameFromHostname(hostname: string): string {
  const name = hostname.toLowerCase();
  if (name === '') throw new NodenameError('the node has no hostname to name it after');
  return name;
}

/**
 * `k8s.NodenameController`: Nodenames `nodename`, the name the node registers with — its hostname, or its FQDN when
 * `machine.kubelet.registerWithFQDN` is set — with the HostnameStatus version it came from.
 */
export class NodenameController implements Controller {
  readonly name = 'k8s.NodenameController';

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: NodenameType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const machine = cfg ? parsedConfig(cfg).v1alpha1?.machine : undefined;
      const status = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      if (!machine || !status) continue;
      const { hostname, domainname } = status.spec;
      const spec: NodenameSpec = {
        nodename: nodenameFromHostname(machine.kubelet?.registerWithFQDN && domainname ? `${hostname}.${domainname}` : hostname),
        hostnameVersion: String(status.metadata.version),
        skipNodeRegistration: machine.kubelet?.skipNodeRegistration ?? false,
      };
      await r.modify<NodenameSpec>({ namespace: K8sNamespace, type: NodenameType, id: NodenameID }, () => spec, (o) => {
        o.spec = spec;
      });
      r.resetRestartBackoff();
    }
  }
}
