import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type MemberSpec, MemberType } from '../../resources/cluster/member.js';
import { ControlPlaneDiscoveredEndpointsID, type EndpointSpec, EndpointType } from '../../resources/k8s/endpoint.js';
import { ClusterNamespace, ControlPlaneNamespace } from '../../resources/namespaces.js';
import { netIP } from '../../resources/codec.js';

/** Orders addresses as Go's netip.Addr.Compare: IPv4 before IPv6, then by their bytes. */
export function compareIPs(a: string, b: string): number {
  const x = netIP(a).ip;
  const y = netIP(b).ip;
  return x.length - y.length || Buffer.compare(x, y);
}

/**
 * `cluster.EndpointController`: Endpoints `discovery`, the addresses of the control plane members (sorted), which
 * a control plane joining etcd asks for the cluster's members.
 */
export class EndpointController implements Controller {
  readonly name = 'cluster.EndpointController';

  inputs(): Input[] {
    return [{ namespace: ClusterNamespace, type: MemberType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: EndpointType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter): Promise<void> {
    for await (const _ of r.events()) {
      const members = await r.list<MemberSpec>({ namespace: ClusterNamespace, type: MemberType });
      const addresses = members
        .filter((m) => m.spec.machineType === 'controlplane' || m.spec.machineType === 'init')
        .flatMap((m) => m.spec.addresses)
        .sort(compareIPs);
      const spec: EndpointSpec = { addresses, hosts: [] };
      await r.modify<EndpointSpec>({ namespace: ControlPlaneNamespace, type: EndpointType, id: ControlPlaneDiscoveredEndpointsID }, () => spec, (o) => {
        o.spec = spec;
      });
      r.resetRestartBackoff();
    }
  }
}
