import type { Logger } from 'pino';
import { timeSyncSettings } from '../../config/time-sync.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import type { KernelCmdline } from '../../platform/cmdline.js';
import { parseIPSetting } from '../../platform/cmdline.js';
import type { ConfigLayerName } from '../../resources/codec.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, NetworkConfigNamespace } from '../../resources/namespaces.js';
import { TimeServerID } from '../../resources/network/time-server-status.js';
import { type TimeServerSpecSpec, TimeServerSpecType } from '../../resources/network/time-server-spec.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** Talos's default NTP server. */
export const DEFAULT_NTP_SERVER = 'time.cloudflare.com';

/**
 * The time servers each source asks for, as layered TimeServerSpecs in `network-config`: `default/timeservers`
 * (time.cloudflare.com), `cmdline/timeservers` (the NTP field of `ip=`), `configuration/timeservers` (TimeSyncConfig
 * or `machine.time.servers`).
 */
export class TimeServerConfigController implements Controller {
  readonly name = 'network.TimeServerConfigController';

  constructor(private readonly cmdline?: KernelCmdline) {}

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: TimeServerSpecType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const specs: TimeServerSpecSpec[] = [{ timeServers: [DEFAULT_NTP_SERVER], layer: 'default' }];
      const fromCmdline = (this.cmdline?.all('ip') ?? []).flatMap((v) => parseIPSetting(v).ntp);
      if (fromCmdline.length > 0) specs.push({ timeServers: fromCmdline, layer: 'cmdline' });
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const servers = cfg ? timeSyncSettings(parsedConfig(cfg))?.servers : undefined;
      if (servers !== undefined) specs.push({ timeServers: [...servers], layer: 'configuration' });
      for (const spec of specs) {
        await r.modify<TimeServerSpecSpec>({ namespace: NetworkConfigNamespace, type: TimeServerSpecType, id: layeredID(spec.layer, TimeServerID) }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkConfigNamespace, type: TimeServerSpecType });
    }
  }
}

/** `<layer>/<id>`, the id of a configuration layer's resource. */
export const layeredID = (layer: ConfigLayerName, id: string) => `${layer}/${id}`;
