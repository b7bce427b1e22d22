import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { FilesNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressCurrentID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../../resources/network/status.js';

const RouteStatusType = 'RouteStatuses.net.talos.dev';
const ProbeStatusType = 'ProbeStatuses.net.talos.dev';
const EtcFileStatusType = 'EtcFileStatuses.files.talos.dev';

/** A default route: no destination (or an all-zero one). */
const isDefaultRoute = (dst: unknown) => dst === undefined || dst === null || dst === '' || /^(0\.0\.0\.0|::)(\/0)?$/.test(String(dst));

/**
 * The network Status `status`: address ready (the current node addresses are not empty), connectivity ready (every
 * probe succeeds, or, without probes, a default route exists), hostname ready (a HostnameStatus exists), /etc files
 * ready (EtcFileStatus `hosts` and `resolv.conf`; in container mode the host's resolv.conf is used).
 */
export class NetworkStatusController implements Controller {
  readonly name = 'network.StatusController';

  constructor(private readonly mode: 'metal' | 'container') {}

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID, kind: 'weak' },
      { namespace: NetworkNamespace, type: RouteStatusType, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, kind: 'weak' },
      { namespace: FilesNamespace, type: EtcFileStatusType, kind: 'weak' },
      { namespace: NetworkNamespace, type: ProbeStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: NetworkStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const current = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID });
      const probes = await r.list<{ success?: boolean }>({ namespace: NetworkNamespace, type: ProbeStatusType });
      let connectivity: boolean;
      if (probes.length > 0) connectivity = probes.every((p) => p.spec.success === true);
      else connectivity = (await r.list<{ destination?: unknown; dst?: unknown }>({ namespace: NetworkNamespace, type: RouteStatusType })).some((rt) => isDefaultRoute(rt.spec.destination ?? rt.spec.dst));
      let etcFiles = true;
      for (const file of ['hosts', 'resolv.conf']) {
        if (this.mode === 'container' && file === 'resolv.conf') continue;
        if (!(await r.getOptional({ namespace: FilesNamespace, type: EtcFileStatusType, id: file }))) {
          etcFiles = false;
          break;
        }
      }
      const spec: NetworkStatusSpec = {
        addressReady: (current?.spec.addresses.length ?? 0) > 0,
        connectivityReady: connectivity,
        hostnameReady: (await r.getOptional({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID })) !== undefined,
        etcFilesReady: etcFiles,
      };
      await r.modify<NetworkStatusSpec>({ namespace: NetworkNamespace, type: NetworkStatusType, id: NetworkStatusID }, () => spec, (o) => {
        o.spec = spec;
      });
      r.resetRestartBackoff();
    }
  }
}
