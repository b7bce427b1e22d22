import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import type { KernelCmdline } from '../../platform/cmdline.js';
import { parseIPSetting } from '../../platform/cmdline.js';
import { type IdentitySpec, IdentityType, LocalIdentity } from '../../resources/cluster/identity.js';
import type { ConfigLayerName } from '../../resources/codec.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ClusterNamespace, ConfigNamespace, NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID } from '../../resources/network/hostname-status.js';
import { type HostnameSpecSpec, HostnameSpecType } from '../../resources/network/hostname-spec.js';
import { NodeAddressDefaultID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** `auto: stable`: `talos-` and two groups of three base-36 digits of the node id's SHA-256. */
export function stableHostname(nodeId: string): string {
  const b36 = BigInt(`0x${createHash('sha256').update(nodeId).digest().subarray(0, 8).toString('hex')}`).toString(36);
  return `talos-${b36.slice(1, 4)}-${b36.slice(4, 7)}`;
}

/** `auto: talos-addr`: `talos-` and the address with dashes (IPv6 without colons). */
export const addressHostname = (address: string) => `talos-${address.replace(/:/g, '').replace(/\./g, '-')}`;

const fqdn = (name: string, layer: ConfigLayerName): HostnameSpecSpec => {
  const dot = name.indexOf('.');
  return dot > 0 ? { hostname: name.slice(0, dot), domainname: name.slice(dot + 1), layer } : { hostname: name, domainname: '', layer };
};

/**
 * HostnameSpecs in `network-config`: `cmdline` (`talos.hostname`, or the hostname field of `ip=`), `configuration`
 * (HostnameConfig `hostname` or `machine.network.hostname`) and `default` as HostnameConfig's `auto` says: `stable`
 * from the node identity, `talos-addr` from the default node address, `off` none. A config without HostnameConfig
 * (the v1alpha1 era) gets the stable default when `machine.features.stableHostname` is set, else the address-based
 * one; without a config there is no default.
 */
export class HostnameConfigController implements Controller {
  readonly name = 'network.HostnameConfigController';

  constructor(private readonly cmdline?: KernelCmdline) {}

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressDefaultID, kind: 'weak' },
      { namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: HostnameSpecType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const specs: HostnameSpecSpec[] = [];
      const fromCmdline = this.cmdline?.get('talos.hostname') || (this.cmdline?.all('ip') ?? []).map((v) => parseIPSetting(v).hostname).find(Boolean);
      if (fromCmdline) specs.push(fqdn(fromCmdline, 'cmdline'));
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const mc = cfg ? parsedConfig(cfg) : undefined;
      // without a config there is no default hostname (maintenance mode keeps the kernel's)
      if (mc) {
        const doc = mc.find('HostnameConfig')?.value as { auto?: string; hostname?: string } | undefined;
        const machine = mc.v1alpha1?.machine as { network?: { hostname?: string }; features?: { stableHostname?: boolean } } | undefined;
        const configured = doc?.hostname || machine?.network?.hostname;
        if (configured) specs.push(fqdn(configured, 'configuration'));
        // HostnameConfig says; else the v1alpha1 era's features.stableHostname, the address otherwise
        const auto = doc ? (doc.auto ?? 'off') : mc.v1alpha1 ? (machine?.features?.stableHostname ? 'stable' : 'talos-addr') : 'off';
        if (auto === 'stable') {
          const id = await r.getOptional<IdentitySpec>({ namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity });
          if (id) specs.push(fqdn(stableHostname(id.spec.nodeId), 'default'));
        } else if (auto === 'talos-addr') {
          const addr = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressDefaultID });
          if (addr?.spec.addresses.length === 1) specs.push(fqdn(addressHostname(addr.spec.addresses[0]!.split('/')[0]!), 'default'));
        }
      }
      for (const spec of specs) {
        await r.modify<HostnameSpecSpec>({ namespace: NetworkConfigNamespace, type: HostnameSpecType, id: `${spec.layer}/${HostnameID}` }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkConfigNamespace, type: HostnameSpecType });
    }
  }
}
