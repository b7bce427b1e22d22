import type { Logger } from 'pino';
import type { MachineConfig } from '../../config/document.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type IPSetting, type KernelCmdline, parseIPSetting } from '../../platform/cmdline.js';
import type { ConfigLayerName } from '../../resources/codec.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace, NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { type LinkStatusSpec, LinkStatusType } from '../../resources/network/link-status.js';
import { ignoredLinks, linkSettings, runsDefaultDHCP } from '../../config/network-links.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/**
 * The shape of the network Config controllers: from the kernel command line and the machine config, each writes the
 * layered specs of its type into `network-config` (IDs `<layer>/<id>`), and removes the ones no source asks for.
 */
export abstract class NetworkConfigController<S extends { layer: ConfigLayerName }> implements Controller {
  abstract readonly name: string;
  protected abstract readonly type: string;
  /** the specs, by id without the layer */
  protected abstract specs(sources: NetworkConfigSources): { id: string; spec: S }[];

  constructor(protected readonly cmdline?: KernelCmdline) {}

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: NetworkNamespace, type: LinkStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: this.type, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const cmdline = (this.cmdline?.all('ip') ?? []).map(parseIPSetting);
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const config = cfg ? parsedConfig(cfg) : undefined;
      const physicalLinks = (await r.list<LinkStatusSpec>({ namespace: NetworkNamespace, type: LinkStatusType }))
        .filter((l) => l.spec.type === 'ether' && l.spec.kind === '')
        .map((l) => l.metadata.id)
        .sort();
      const ignored = new Set([...(this.cmdline?.all('talos.network.interface.ignore') ?? []), ...(config ? ignoredLinks(config) : [])]);
      // Talos's defaults: without link settings of its own the node brings up its physical links and runs DHCP on them
      const explicit = new Set([...cmdline.map((s) => s.device ?? ''), ...(config ? linkSettings(config).map((l) => l.name) : [])]);
      const defaultLinks = runsDefaultDHCP(config) ? physicalLinks.filter((l) => !ignored.has(l) && !explicit.has(l)) : [];
      for (const { id, spec } of this.specs({ cmdline, config, defaultLinks, ignored })) {
        await r.modify<S>({ namespace: NetworkConfigNamespace, type: this.type, id: `${spec.layer}/${id}` }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkConfigNamespace, type: this.type });
    }
  }
}

/** What the network Config controllers make their specs from. */
export interface NetworkConfigSources {
  /** the `ip=` parameters */
  cmdline: IPSetting[];
  config: MachineConfig | undefined;
  /** physical links that get Talos's defaults (up, DHCP): not ignored, not configured otherwise */
  defaultLinks: string[];
  /** links to leave alone (`talos.network.interface.ignore`, `ignore: true`) */
  ignored: ReadonlySet<string>;
}

/** `ip=` client address and netmask as a CIDR (`10.0.0.5` + `255.255.255.0` → `10.0.0.5/24`). */
export function cmdlineAddress(s: IPSetting): string | undefined {
  if (!s.client) return undefined;
  if (s.client.includes('/')) return s.client;
  if (!s.netmask) return `${s.client}/${s.client.includes(':') ? 128 : 32}`;
  if (/^\d+$/.test(s.netmask)) return `${s.client}/${s.netmask}`;
  const bits = s.netmask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).split('').filter((b) => b === '1').length, 0);
  return `${s.client}/${bits}`;
}
