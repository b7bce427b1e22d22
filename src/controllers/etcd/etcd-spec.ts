import { BlockList, isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { EtcdConfigID, type EtcdConfigSpec, EtcdConfigType } from '../../resources/etcd/config.js';
import { EtcdSpecID, type EtcdSpecSpec, EtcdSpecType } from '../../resources/etcd/spec.js';
import { EtcdNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressCurrentID, NodeAddressRoutedID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';

/** The addresses in `subnets` (`!` excludes); no valid subnet at all means every address. */
export function filterAddresses(addrs: string[], subnets: string[]): string[] {
  const valid = new BlockList();
  const excluded = new BlockList();
  let anyValid = false;
  for (const s of subnets) {
    const neg = s.startsWith('!');
    const [net, bits] = (neg ? s.slice(1) : s).split('/');
    const family = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(net ?? '')) throw new Error(`invalid subnet "${s}"`);
    const prefix = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
    (neg ? excluded : valid).addSubnet(net!, prefix, family);
    if (!neg) anyValid = true;
  }
  return addrs.filter((a) => {
    const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
    return (!anyValid || valid.check(a, family)) && !excluded.check(a, family);
  });
}

/**
 * `etcd.SpecController`: EtcdSpecs `etcd` — the member name (the hostname), the address it advertises (the first
 * routed address in the advertised subnets, or every current one in them when subnets are given) and where it
 * listens (every address, or the routed addresses in the listen subnets plus loopback for clients). A node of the
 * process platform shares the host with other nodes: it listens on its advertised address only.
 */
export class EtcdSpecController implements Controller {
  readonly name = 'etcd.SpecController';

  constructor(private readonly opts: { listenOnAdvertised?: boolean } = {}) {}

  inputs(): Input[] {
    return [
      { namespace: EtcdNamespace, type: EtcdConfigType, id: EtcdConfigID, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: EtcdSpecType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const spec = await this.compute(r);
      if (spec) {
        await r.modify<EtcdSpecSpec>({ namespace: EtcdNamespace, type: EtcdSpecType, id: EtcdSpecID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      // without a config (a worker, or no config) there is no spec; while addresses are missing the last one stays
      const config = await r.getOptional({ namespace: EtcdNamespace, type: EtcdConfigType, id: EtcdConfigID });
      if (spec || !config) await r.cleanupOutputs({ namespace: EtcdNamespace, type: EtcdSpecType });
      r.resetRestartBackoff();
    }
  }

  private async compute(r: ControllerAdapter): Promise<EtcdSpecSpec | undefined> {
    const config = (await r.getOptional<EtcdConfigSpec>({ namespace: EtcdNamespace, type: EtcdConfigType, id: EtcdConfigID }))?.spec;
    const hostname = (await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID }))?.spec;
    const routed = (await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressRoutedID }))?.spec;
    const current = (await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID }))?.spec;
    if (!config || !hostname || !routed || !current) return undefined;
    const ips = (a: NodeAddressSpec) => a.addresses.map((p) => p.split('/')[0]!);
    const routedIPs = ips(routed);
    if (routedIPs.length === 0) return undefined;
    const advertiseCIDRs = [...(config.advertiseValidSubnets?.length ? config.advertiseValidSubnets : ['0.0.0.0/0', '::/0']), ...config.advertiseExcludeSubnets.map((s) => `!${s}`)];
    const listenCIDRs = [...(config.listenValidSubnets ?? []), ...config.listenExcludeSubnets.map((s) => `!${s}`)];
    const advertised = config.advertiseValidSubnets?.length ? filterAddresses(ips(current), advertiseCIDRs) : filterAddresses(routedIPs, advertiseCIDRs).slice(0, 1);
    let listenPeer: string[];
    let listenClient: string[];
    if (this.opts.listenOnAdvertised) {
      listenPeer = advertised;
      listenClient = advertised;
    } else if (listenCIDRs.length > 0) {
      listenPeer = filterAddresses(routedIPs, listenCIDRs);
      listenClient = ['127.0.0.1', ...listenPeer];
    } else {
      listenPeer = ['0.0.0.0'];
      listenClient = ['0.0.0.0'];
    }
    if (advertised.length === 0 || listenPeer.length === 0) return undefined;
    return { name: hostname.hostname, advertisedAddresses: advertised, listenPeerAddresses: listenPeer, listenClientAddresses: listenClient, image: config.image, extraArgs: config.extraArgs };
  }
}
