import { DEFAULT_ROUTE_METRIC, linkSettings } from '../../config/network-links.js';
import { type OperatorSpecSpec, OperatorSpecType } from '../../resources/network/operator-spec.js';
import { NetworkConfigController, type NetworkConfigSources } from './network-config.js';

const dhcp4 = (link: string, layer: OperatorSpecSpec['layer'], metric = DEFAULT_ROUTE_METRIC, skipHostname = false): { id: string; spec: OperatorSpecSpec } => ({
  id: `dhcp4/${link}`,
  spec: { operator: 'dhcp4', linkName: link, requireUp: true, dhcp4: { routeMetric: metric, skipHostnameRequest: skipHostname }, layer },
});

/**
 * OperatorSpecs: DHCPv4 on every physical link by default (when the config configures no links and the link is not
 * ignored), on the `ip=<link>:dhcp` link, on legacy interfaces with `dhcp: true` and on DHCPv4Config links.
 */
export class OperatorConfigController extends NetworkConfigController<OperatorSpecSpec> {
  readonly name = 'network.OperatorConfigController';
  protected readonly type = OperatorSpecType;

  protected specs({ cmdline, config, defaultLinks, ignored }: NetworkConfigSources) {
    const out: { id: string; spec: OperatorSpecSpec }[] = defaultLinks.map((l) => dhcp4(l, 'default'));
    for (const s of cmdline) if (s.device && !ignored.has(s.device) && (s.autoconf === 'dhcp' || s.autoconf === 'on' || s.autoconf === 'any')) out.push(dhcp4(s.device, 'cmdline'));
    if (config) {
      for (const l of linkSettings(config)) if (l.dhcp) out.push(dhcp4(l.name, 'configuration'));
      for (const d of config.findAll('DHCPv4Config')) {
        const v = d.value as { name?: string; routeMetric?: number; ignoreHostname?: boolean };
        if (v.name) out.push(dhcp4(v.name, 'configuration', v.routeMetric || DEFAULT_ROUTE_METRIC, v.ignoreHostname === true));
      }
    }
    return out;
  }
}
