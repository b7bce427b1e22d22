import type { Logger } from 'pino';
import type { MachineConfig } from '../../config/document.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { type EtcFileSpecSpec, EtcFileSpecType } from '../../resources/files/etc-file-spec.js';
import { ConfigNamespace, FilesNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressDefaultID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { ResolverID, type ResolverStatusSpec, ResolverStatusType } from '../../resources/network/resolver-status.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** Lines of `cells` joined as Go's tabwriter (padding 1) aligns them: the first column padded to the widest. */
function aligned(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([a]) => a.length)) + 1;
  return rows.map(([a, b]) => `${a.padEnd(width)}${b}\n`).join('');
}

/** The node's /etc/hosts: localhost, the node's address and names, the IPv6 defaults, then the config's static hosts. */
export function renderHosts(hostname: HostnameStatusSpec | undefined, address: string | undefined, cfg: MachineConfig | undefined): string {
  const rows: [string, string][] = [['127.0.0.1', 'localhost']];
  if (hostname && address) {
    const fqdn = hostname.domainname ? `${hostname.hostname}.${hostname.domainname}` : hostname.hostname;
    rows.push([address, fqdn === hostname.hostname ? fqdn : `${fqdn} ${hostname.hostname}`]);
  }
  rows.push(['::1', 'localhost ip6-localhost ip6-loopback'], ['ff02::1', 'ip6-allnodes'], ['ff02::2', 'ip6-allrouters']);
  const extra = new Map<string, string[]>();
  if (cfg) {
    for (const e of ((cfg.v1alpha1?.machine?.network as { extraHostEntries?: { ip?: string; aliases?: string[] }[] } | undefined)?.extraHostEntries ?? [])) {
      if (e.ip) extra.set(e.ip, [...(extra.get(e.ip) ?? []), ...(e.aliases ?? [])]);
    }
    for (const d of cfg.findAll('StaticHostConfig')) {
      const v = d.value as { name?: string; hostnames?: string[] };
      if (v.name) extra.set(v.name, [...(extra.get(v.name) ?? []), ...(v.hostnames ?? [])]);
    }
  }
  for (const ip of [...extra.keys()].sort()) rows.push([ip, extra.get(ip)!.join(' ')]);
  return aligned(rows);
}

/** The node's /etc/resolv.conf: up to three nameservers, then the search domains. */
export function renderResolvConf(r: ResolverStatusSpec): string {
  let out = r.dnsServers
    .slice(0, 3)
    .map((ns) => `nameserver ${ns}\n`)
    .join('');
  if (r.searchDomains.length > 0) out += `\nsearch ${r.searchDomains.join(' ')}\n`;
  return out;
}

/**
 * `network.EtcFileController`: the EtcFileSpecs `hosts` (from the hostname, the node's default address and the
 * config's static hosts) and `resolv.conf` (from the resolvers; not in container mode, where the host's is used).
 */
export class EtcFileController implements Controller {
  readonly name = 'network.EtcFileController';

  constructor(private readonly mode: 'metal' | 'container') {}

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressDefaultID, kind: 'weak' },
      { namespace: NetworkNamespace, type: ResolverStatusType, id: ResolverID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: EtcFileSpecType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const write = async (id: string, contents: string) => {
      const spec: EtcFileSpecSpec = { contents, mode: 0o644, selinux_label: 'system_u:object_r:etc_t:s0' };
      await r.modify<EtcFileSpecSpec>({ namespace: FilesNamespace, type: EtcFileSpecType, id }, () => spec, (o) => {
        o.spec = spec;
      });
    };
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const hostname = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      const address = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressDefaultID });
      const resolvers = await r.getOptional<ResolverStatusSpec>({ namespace: NetworkNamespace, type: ResolverStatusType, id: ResolverID });
      if (resolvers && this.mode !== 'container') await write('resolv.conf', renderResolvConf(resolvers.spec));
      await write('hosts', renderHosts(hostname?.spec, address?.spec.addresses[0]?.split('/')[0], cfg ? parsedConfig(cfg) : undefined));
      r.resetRestartBackoff();
    }
  }
}
