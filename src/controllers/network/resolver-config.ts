import { ResolverID } from '../../resources/network/resolver-status.js';
import { type ResolverSpecSpec, ResolverSpecType } from '../../resources/network/resolver-spec.js';
import { NetworkConfigController, type NetworkConfigSources } from './network-config.js';

/** Talos's default resolvers. */
export const DEFAULT_RESOLVERS = ['1.1.1.1', '8.8.8.8'];

/**
 * ResolverSpecs: 1.1.1.1 and 8.8.8.8 by default, the DNS fields of `ip=`, and the machine config's resolvers
 * (ResolverConfig, or the legacy `machine.network.nameservers`).
 */
export class ResolverConfigController extends NetworkConfigController<ResolverSpecSpec> {
  readonly name = 'network.ResolverConfigController';
  protected readonly type = ResolverSpecType;

  protected specs({ cmdline, config }: NetworkConfigSources) {
    const out: { id: string; spec: ResolverSpecSpec }[] = [{ id: ResolverID, spec: { dnsServers: [...DEFAULT_RESOLVERS], layer: 'default' } }];
    const fromCmdline = cmdline.flatMap((s) => s.dns);
    if (fromCmdline.length > 0) out.push({ id: ResolverID, spec: { dnsServers: fromCmdline, layer: 'cmdline' } });
    if (config) {
      const doc = config.find('ResolverConfig')?.value as { nameservers?: { address?: string }[]; searchDomains?: { domains?: string[] } } | undefined;
      const legacy = (config.v1alpha1?.machine?.network as { nameservers?: string[]; searchDomains?: string[] } | undefined) ?? {};
      const servers = doc?.nameservers?.map((n) => n.address ?? '').filter(Boolean) ?? legacy.nameservers;
      const domains = doc?.searchDomains?.domains ?? legacy.searchDomains;
      if (servers?.length) out.push({ id: ResolverID, spec: { dnsServers: [...servers], layer: 'configuration', ...(domains?.length ? { searchDomains: [...domains] } : {}) } });
    }
    return out;
  }
}
