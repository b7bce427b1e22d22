import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { createCA, toBase64Pair } from '../../pki/index.js';
import { SecretsNamespace } from '../../resources/namespaces.js';
import { MaintenanceRootID, type MaintenanceRootSpec, MaintenanceRootType } from '../../resources/secrets/maintenance-root.js';

/**
 * `secrets.MaintenanceRootController`: a self-signed CA made once per boot for the maintenance API's certificate.
 * Nobody can verify it (clients use `--insecure`); it only gives the TLS handshake a certificate.
 */
export class MaintenanceRootController implements Controller {
  readonly name = 'secrets.MaintenanceRootController';

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: MaintenanceRootType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      const ptr = { namespace: SecretsNamespace, type: MaintenanceRootType, id: MaintenanceRootID };
      if (await r.getOptional<MaintenanceRootSpec>(ptr)) continue;
      const ca = await createCA('ecdsa', { commonName: 'maintenance-root' });
      await r.modify<MaintenanceRootSpec>(ptr, () => ({}), (o) => {
        o.spec = { ca: toBase64Pair(ca) };
      });
      log.debug('made the maintenance CA');
    }
  }
}
