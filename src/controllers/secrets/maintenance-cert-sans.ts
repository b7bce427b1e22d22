import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressAccumulativeID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { apiCertSANs } from './api-cert-sans.js';
import { CertSANMaintenanceID, type CertSANSpec, CertSANType } from '../../resources/secrets/cert-sans.js';

/** The common name of the maintenance API's server certificate. */
export const MAINTENANCE_SERVICE_CN = 'maintenance-service.talos.dev';

/** The names the maintenance certificate carries: every address the node has had, loopback, and the hostname. */
export function maintenanceCertSANs(hostname: HostnameStatusSpec | undefined, addresses: NodeAddressSpec): CertSANSpec {
  const noConfig = { acceptedCAs: [], certSANIPs: [], certSANDNSNames: [], token: '' };
  return { ...apiCertSANs(noConfig, hostname, addresses), fqdn: MAINTENANCE_SERVICE_CN };
}

/** `secrets.MaintenanceCertSANsController`: CertSANs/maintenance, for the certificate apid serves before a config exists. */
export class MaintenanceCertSANsController implements Controller {
  readonly name = 'secrets.MaintenanceCertSANsController';

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: CertSANType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const addrs = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID });
      if (!addrs) continue;
      const hostname = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      const sans = maintenanceCertSANs(hostname?.spec, addrs.spec);
      await r.modify<CertSANSpec>({ namespace: SecretsNamespace, type: CertSANType, id: CertSANMaintenanceID }, () => ({ ips: [], dnsNames: [], fqdn: '' }), (o) => {
        o.spec = sans;
      });
      r.resetRestartBackoff();
    }
  }
}
