import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type NodeIPConfigSpec, NodeIPConfigType } from '../../resources/k8s/node-ip-config.js';
import { type NodeIPSpec, NodeIPType } from '../../resources/k8s/node-ip.js';
import { K8sNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { NodeAddressRoutedID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { filterAddresses } from '../etcd/etcd-spec.js';

/**
 * The kubelet's node IPs from the node's addresses (prefixes or bare IPs, in order): those inside `validSubnets` (a
 * leading `!` excludes; none at all means any) and outside `excludeSubnets`, then the first IPv4 and the first IPv6
 * address of those. `skipped` lists the further candidates that were passed over.
 */
export function pickNodeIPs(addresses: string[], validSubnets: string[], excludeSubnets: string[] = []): { ips: string[]; skipped: string[] } {
  const candidates = filterAddresses(
    addresses.map((a) => a.split('/')[0]!),
    [...validSubnets, ...excludeSubnets.map((s) => `!${s}`)],
  );
  const ips: string[] = [];
  const skipped: string[] = [];
  for (const family of [4, 6]) {
    const of = candidates.filter((ip) => isIP(ip) === family);
    ips.push(...of.slice(0, 1));
    skipped.push(...of.slice(1));
  }
  // in the order the node has them
  ips.sort((a, b) => candidates.indexOf(a) - candidates.indexOf(b));
  return { ips, skipped };
}

/**
 * `k8s.NodeIPController`: NodeIPs `kubelet`, the addresses the kubelet registers the node with, picked from the
 * node's routed addresses by the NodeIPConfig. While none fits, the last pick stays (and a warning says why).
 */
export class NodeIPController implements Controller {
  readonly name = 'k8s.NodeIPController';

  inputs(): Input[] {
    return [
      { namespace: K8sNamespace, type: NodeIPConfigType, id: KubeletID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: NodeIPType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const cfg = (await r.getOptional<NodeIPConfigSpec>({ namespace: K8sNamespace, type: NodeIPConfigType, id: KubeletID }))?.spec;
      const addrs = (await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID }))?.spec;
      if (!cfg || !addrs) continue;
      const { ips, skipped } = pickNodeIPs(addrs.addresses, cfg.validSubnets, cfg.excludeSubnets);
      if (ips.length === 0) {
        log.warn({ addresses: addrs.addresses, validSubnets: cfg.validSubnets, excludeSubnets: cfg.excludeSubnets }, 'no suitable node IP found: check machine.kubelet.nodeIP and the pod and service subnets');
        continue;
      }
      if (skipped.length > 0) log.warn({ skipped }, 'more node IP candidates than one per family: set machine.kubelet.nodeIP.validSubnets to choose');
      const spec: NodeIPSpec = { addresses: ips };
      await r.modify<NodeIPSpec>({ namespace: K8sNamespace, type: NodeIPType, id: KubeletID }, () => spec, (o) => {
        o.spec = spec;
      });
      r.resetRestartBackoff();
    }
  }
}
