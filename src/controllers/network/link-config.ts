import { linkSettings } from '../../config/network-links.js';
import { type LinkSpecSpec, LinkSpecType } from '../../resources/network/link-spec.js';
import { NetworkConfigController, type NetworkConfigSources } from './network-config.js';

const link = (name: string, layer: LinkSpecSpec['layer'], up: boolean, mtu = 0): { id: string; spec: LinkSpecSpec } => ({
  id: name,
  spec: { name, logical: false, up, mtu, kind: '', type: name === 'lo' ? 'loopback' : 'ether', parentName: '', layer },
});

/**
 * LinkSpecs: `lo` up by default (and, without link settings in the config, every physical link not ignored), the
 * `ip=` device up, and the links the machine config configures.
 */
export class LinkConfigController extends NetworkConfigController<LinkSpecSpec> {
  readonly name = 'network.LinkConfigController';
  protected readonly type = LinkSpecType;

  protected specs({ cmdline, config, defaultLinks, ignored }: NetworkConfigSources) {
    const out = [link('lo', 'default', true), ...defaultLinks.map((l) => link(l, 'default', true))];
    for (const s of cmdline) if (s.device && !ignored.has(s.device)) out.push(link(s.device, 'cmdline', true));
    if (config) for (const l of linkSettings(config)) out.push(link(l.name, 'configuration', l.up, l.mtu));
    return out;
  }
}
