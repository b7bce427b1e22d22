import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { RuntimeNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { APIServiceConfigID, type APIServiceConfigSpec, APIServiceConfigType } from '../../resources/runtime/api-service-config.js';
import { MaintenanceID, type MaintenanceServiceConfigSpec, MaintenanceServiceConfigType, MaintenanceServiceRequestType } from '../../resources/runtime/maintenance.js';
import { ApiCertificatesID, type ApiCertificatesSpec, ApiCertificatesType } from '../../resources/secrets/api-certificates.js';

/**
 * apid's settings. While the node waits for its first config (a MaintenanceServiceRequest exists), apid serves the
 * maintenance API: on the maintenance listen address, no client certificates, every caller a reader, no routing.
 * Once apid's certificates are the real ones (not the maintenance certificate), it serves with client certificates
 * and routing on the platform's API address (`:50000` on metal, the node's own loopback address on the process
 * platform). In between (the config arrived, the real certificates are not issued yet) the resource is absent.
 */
export class APIServiceConfigController implements Controller {
  readonly name = 'runtime.APIServiceConfigController';

  constructor(private readonly listenAddress: string) {}

  inputs(): Input[] {
    return [
      { namespace: RuntimeNamespace, type: MaintenanceServiceRequestType, id: MaintenanceID, kind: 'weak' },
      { namespace: RuntimeNamespace, type: MaintenanceServiceConfigType, id: MaintenanceID, kind: 'weak' },
      { namespace: SecretsNamespace, type: ApiCertificatesType, id: ApiCertificatesID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: APIServiceConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const ptr = { namespace: RuntimeNamespace, type: APIServiceConfigType, id: APIServiceConfigID };
    const blank = (): APIServiceConfigSpec => ({ listenAddress: '', nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false });
    for await (const _ of r.events()) {
      const [request, maintenance, certs] = await Promise.all([
        r.getOptional({ namespace: RuntimeNamespace, type: MaintenanceServiceRequestType, id: MaintenanceID }),
        r.getOptional<MaintenanceServiceConfigSpec>({ namespace: RuntimeNamespace, type: MaintenanceServiceConfigType, id: MaintenanceID }),
        r.getOptional<ApiCertificatesSpec>({ namespace: SecretsNamespace, type: ApiCertificatesType, id: ApiCertificatesID }),
      ]);
      r.startTrackingOutputs();
      if (request) {
        if (maintenance) {
          await r.modify<APIServiceConfigSpec>(ptr, blank, (o) => {
            o.spec = { listenAddress: maintenance.spec.listenAddress, nodeRoutingDisabled: true, readonlyRoleMode: true, skipVerifyingClientCert: true };
          });
        }
      } else if (certs && !certs.spec.skipVerifyingClientCert) {
        await r.modify<APIServiceConfigSpec>(ptr, blank, (o) => {
          o.spec = { listenAddress: this.listenAddress, nodeRoutingDisabled: false, readonlyRoleMode: false, skipVerifyingClientCert: false };
        });
      }
      await r.cleanupOutputs({ namespace: RuntimeNamespace, type: APIServiceConfigType });
    }
  }
}
