import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressAccumulativeID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { NetworkNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { CertSANAPIID, type CertSANSpec, CertSANType } from '../../resources/secrets/cert-sans.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../../resources/secrets/os-root.js';

/**
 * The names apid's certificate must carry: `machine.certSANs`, every address the node has had (accumulative), the
 * loopback addresses, and the hostname with its FQDN.
 */
export function apiCertSANs(root: OSRootSpec, hostname: HostnameStatusSpec | undefined, addresses: NodeAddressSpec | undefined): CertSANSpec {
  const ips = new Set<string>([...root.certSANIPs, ...(addresses?.addresses ?? []).map((p) => p.slice(0, p.lastIndexOf('/'))), '127.0.0.1', '::1']);
  const fqdn = hostname ? (hostname.domainname ? `${hostname.hostname}.${hostname.domainname}` : hostname.hostname) : '';
  const dns = new Set<string>(root.certSANDNSNames);
  if (hostname?.hostname) dns.add(hostname.hostname);
  if (fqdn) dns.add(fqdn);
  return { ips: [...ips].filter((ip) => isIP(ip) !== 0).sort(), dnsNames: [...dns].sort(), fqdn };
}

export class APICertSANsController implements Controller {
  readonly name = 'secrets.APICertSANsController';

  inputs(): Input[] {
    return [
      { namespace: SecretsNamespace, type: OSRootType, id: OSRootID, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: CertSANType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const root = await r.getOptional<OSRootSpec>({ namespace: SecretsNamespace, type: OSRootType, id: OSRootID });
      if (!root) continue;
      // the names wait for the hostname and the addresses, so that a certificate is not issued for a node still
      // without them only to be issued again moments later
      const hostname = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      if (!hostname) continue;
      const addrs = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID });
      if (!addrs) continue;
      const sans = apiCertSANs(root.spec, hostname.spec, addrs.spec);
      await r.modify<CertSANSpec>({ namespace: SecretsNamespace, type: CertSANType, id: CertSANAPIID }, () => ({ ips: [], dnsNames: [], fqdn: '' }), (o) => {
        o.spec = sans;
      });
      r.resetRestartBackoff();
    }
  }
}
