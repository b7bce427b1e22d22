import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { parseIP } from '../../sys/netlink/rtnl.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import type { AddressStatusSpec } from '../../resources/network/address-status.js';
import { AddressStatusType } from '../../resources/network/address-status.js';
import type { LinkStatusSpec } from '../../resources/network/link-status.js';
import { LinkStatusType } from '../../resources/network/link-status.js';
import { NodeAddressAccumulativeID, NodeAddressCurrentID, NodeAddressDefaultID, NodeAddressRoutedID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';

/** Talos's legacy (v1) order of prefixes: IPv4 first, then by address bytes, then by prefix length. */
export function comparePrefixes(a: string, b: string): number {
  const [ia, la] = a.split('/') as [string, string];
  const [ib, lb] = b.split('/') as [string, string];
  if (isIPv4(ia) !== isIPv4(ib)) return isIPv4(ia) ? -1 : 1;
  const c = Buffer.compare(parseIP(ia), parseIP(ib));
  return c !== 0 ? c : Number(la) - Number(lb);
}

const usable = (a: AddressStatusSpec) => {
  if (a.scope === 'link' || a.scope === 'host' || a.scope === 'nowhere') return false;
  const ip = a.address.split('/')[0]!;
  if (isIPv4(ip)) return !ip.startsWith('127.') && !/^(22[4-9]|23\d)\./.test(ip) && !ip.startsWith('169.254.');
  const lower = ip.toLowerCase();
  return lower !== '::1' && !lower.startsWith('ff') && !/^fe[89ab]/.test(lower);
};

/**
 * NodeAddresses from the addresses the kernel has (metal): `current` (global addresses on links that are up),
 * `routed` (the same, today), `accumulative` (every address seen since boot) and `default` (the first address, kept
 * while it stays current), in Talos's v1 order.
 */
export class NodeAddressController implements Controller {
  readonly name = 'network.NodeAddressController';
  private readonly seen = new Set<string>();

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: AddressStatusType, kind: 'weak' },
      { namespace: NetworkNamespace, type: LinkStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: NodeAddressType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const write = async (id: string, addresses: string[]) => {
      const spec: NodeAddressSpec = { addresses, sortAlgorithm: 'v1' };
      await r.modify<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id }, () => spec, (o) => {
        o.spec = spec;
      });
    };
    for await (const _ of r.events()) {
      const up = new Set((await r.list<LinkStatusSpec>({ namespace: NetworkNamespace, type: LinkStatusType })).filter((l) => l.spec.kind !== '' || l.spec.linkState).map((l) => l.spec.index));
      const addrs = (await r.list<AddressStatusSpec>({ namespace: NetworkNamespace, type: AddressStatusType })).map((a) => a.spec).filter(usable);
      const current = [...new Set(addrs.filter((a) => up.has(a.linkIndex)).map((a) => a.address))].sort(comparePrefixes);
      for (const a of addrs) this.seen.add(a.address);
      await write(NodeAddressCurrentID, current);
      await write(NodeAddressRoutedID, current);
      await write(NodeAddressAccumulativeID, [...this.seen].sort(comparePrefixes));
      const def = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressDefaultID });
      const first = [...addrs.map((a) => a.address)].sort(comparePrefixes)[0];
      if (first && !(def && def.spec.addresses[0] && current.includes(def.spec.addresses[0]))) await write(NodeAddressDefaultID, [first]);
      r.resetRestartBackoff();
    }
  }
}
