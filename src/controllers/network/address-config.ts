import { isIP } from 'node:net';
import { linkSettings } from '../../config/network-links.js';
import type { ScopeName } from '../../resources/codec.js';
import { type AddressSpecSpec, AddressSpecType } from '../../resources/network/address-spec.js';
import { cmdlineAddress, NetworkConfigController, type NetworkConfigSources } from './network-config.js';

const address = (linkName: string, cidr: string, layer: AddressSpecSpec['layer'], scope: ScopeName = 'global'): { id: string; spec: AddressSpecSpec } => ({
  id: `${linkName}/${cidr}`,
  spec: { address: cidr, linkName, family: isIP(cidr.split('/')[0]!) === 6 ? 'inet6' : 'inet4', scope, flags: 'permanent', layer },
});

/** AddressSpecs: the loopback addresses by default, the `ip=` static address, and the machine config's addresses. */
export class AddressConfigController extends NetworkConfigController<AddressSpecSpec> {
  readonly name = 'network.AddressConfigController';
  protected readonly type = AddressSpecType;

  protected specs({ cmdline, config }: NetworkConfigSources) {
    const out = [address('lo', '127.0.0.1/8', 'default', 'host'), address('lo', '::1/128', 'default', 'host')];
    for (const s of cmdline) {
      const cidr = cmdlineAddress(s);
      if (cidr && s.device) out.push(address(s.device, cidr, 'cmdline'));
    }
    if (config) for (const l of linkSettings(config)) for (const a of l.addresses) out.push(address(l.name, a, 'configuration'));
    return out;
  }
}
