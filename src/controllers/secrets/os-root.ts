import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../../resources/secrets/os-root.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** OSRootSecrets from the machine config: the OS CA, the accepted CAs, the machine token and `machine.certSANs`. */
export class OSRootController implements Controller {
  readonly name = 'secrets.RootOSController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: OSRootType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const ptr = { namespace: SecretsNamespace, type: OSRootType, id: OSRootID };
    for await (const _ of r.events()) {
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const machine = cfg ? parsedConfig(cfg).v1alpha1?.machine : undefined;
      if (!machine) {
        const cur = await r.getOptional(ptr);
        if (cur && cur.metadata.owner === this.name) {
          if (await r.teardown(ptr)) await r.destroy(ptr);
        }
        r.resetRestartBackoff();
        continue;
      }
      const ca = machine.ca as { crt?: string; key?: string } | undefined;
      const sans = (machine.certSANs as string[] | undefined) ?? [];
      const accepted = ((machine.acceptedCAs as { crt?: string }[] | undefined) ?? []).filter((c) => c.crt).map((c) => ({ crt: c.crt! }));
      await r.modify<OSRootSpec>(ptr, () => ({ acceptedCAs: [], certSANIPs: [], certSANDNSNames: [], token: '' }), (o) => {
        o.spec.issuingCA = ca?.crt ? { crt: ca.crt, key: ca.key ?? '' } : undefined;
        o.spec.acceptedCAs = [...(ca?.crt ? [{ crt: ca.crt }] : []), ...accepted];
        o.spec.certSANIPs = sans.filter((s) => isIP(s) !== 0);
        o.spec.certSANDNSNames = sans.filter((s) => isIP(s) === 0);
        o.spec.token = (machine.token as string | undefined) ?? '';
      });
      r.resetRestartBackoff();
    }
  }
}
