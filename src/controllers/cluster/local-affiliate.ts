import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type AffiliateSpec, AffiliateType } from '../../resources/cluster/affiliate.js';
import { DiscoveryConfigID, type DiscoveryConfigSpec, DiscoveryConfigType } from '../../resources/cluster/discovery-config.js';
import { type IdentitySpec, IdentityType, LocalIdentity } from '../../resources/cluster/identity.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { NodenameID, type NodenameSpec, NodenameType } from '../../resources/k8s/nodename.js';
import { ClusterNamespace, ConfigNamespace, K8sNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressRoutedID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { buildInfo } from '../../version.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/**
 * `cluster.LocalAffiliateController`: this node's own Affiliate (named by its node identity) while discovery is
 * enabled: its FQDN, nodename, routed addresses, machine type, operating system and, on a control plane, the local
 * API server port. It is what the registries publish for this node.
 */
export class LocalAffiliateController implements Controller {
  readonly name = 'cluster.LocalAffiliateController';

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: DiscoveryConfigType, id: DiscoveryConfigID, kind: 'weak' },
      { namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: K8sNamespace, type: NodenameType, id: NodenameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: AffiliateType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter): Promise<void> {
    for await (const _ of r.events()) {
      const discovery = await r.getOptional<DiscoveryConfigSpec>({ namespace: ConfigNamespace, type: DiscoveryConfigType, id: DiscoveryConfigID });
      const identity = await r.getOptional<IdentitySpec>({ namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity });
      const hostname = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      const nodename = await r.getOptional<NodenameSpec>({ namespace: K8sNamespace, type: NodenameType, id: NodenameID });
      const routed = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID });
      const machineType = await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID });
      // until every input exists, what was published stays
      if (!discovery || !identity || !hostname || !nodename || !routed || !machineType) continue;
      r.startTrackingOutputs();
      if (discovery.spec.discoveryEnabled) {
        const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
        const cp = cfg ? (parsedConfig(cfg).v1alpha1?.cluster as { controlPlane?: { localAPIServerPort?: number } } | undefined)?.controlPlane : undefined;
        const { name, tag } = buildInfo();
        const h = hostname.spec;
        const spec: AffiliateSpec = {
          nodeId: identity.spec.nodeId,
          addresses: routed.spec.addresses.map((p) => p.replace(/\/\d+$/, '')),
          hostname: h.domainname ? `${h.hostname}.${h.domainname}` : h.hostname,
          nodename: nodename.spec.nodename,
          operatingSystem: `${name} (${tag})`,
          machineType: machineType.spec.type,
          ...(isControlPlane(machineType.spec.type) ? { controlPlane: { port: cp?.localAPIServerPort || 6443 } } : {}),
        };
        await r.modify<AffiliateSpec>({ namespace: ClusterNamespace, type: AffiliateType, id: spec.nodeId }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: ClusterNamespace, type: AffiliateType });
    }
  }
}
