import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { DiscoveryConfigID, type DiscoveryConfigSpec, DiscoveryConfigType } from '../../resources/cluster/discovery-config.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { ConfigNamespace } from '../../resources/namespaces.js';
import { parsedConfig } from '../config/machine-config-cache.js';

/** The discovery service nodes use when the config names none. */
export const DEFAULT_DISCOVERY_ENDPOINT = 'https://discovery.talos.dev/';

type Cluster = {
  id?: string;
  secret?: string;
  discovery?: { enabled?: boolean; registries?: { kubernetes?: { disabled?: boolean }; service?: { disabled?: boolean; endpoint?: string } } };
};

/**
 * The discovery settings of a config's cluster section, or why they cannot be used: discovery is off unless
 * `cluster.discovery.enabled`; each registry is on unless disabled; the service endpoint becomes host:port (80 for
 * `http://`, which also means no TLS; 443 otherwise) and `cluster.secret` its encryption key.
 */
export function discoveryConfigOf(cluster: Cluster): DiscoveryConfigSpec | { error: string } {
  const spec: DiscoveryConfigSpec = {
    discoveryEnabled: cluster.discovery?.enabled === true,
    registryKubernetesEnabled: false,
    registryServiceEnabled: false,
    serviceEndpoint: '',
    serviceEndpointInsecure: false,
    serviceEncryptionKey: '',
    serviceClusterID: '',
  };
  if (!spec.discoveryEnabled) return spec;
  const registries = cluster.discovery?.registries;
  spec.registryKubernetesEnabled = registries?.kubernetes?.disabled !== true;
  spec.registryServiceEnabled = registries?.service?.disabled !== true;
  if (!spec.registryServiceEnabled) return spec;
  const endpoint = registries?.service?.endpoint || DEFAULT_DISCOVERY_ENDPOINT;
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return { error: `.cluster.discovery.registries.service.endpoint: "${endpoint}" is not a URL` };
  }
  const host = u.hostname;
  const port = u.port || (u.protocol === 'http:' ? '80' : '443');
  spec.serviceEndpoint = host.startsWith('[') ? `${host}:${port}` : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  spec.serviceEndpointInsecure = u.protocol === 'http:';
  const key = Buffer.from(cluster.secret ?? '', 'base64');
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) return { error: `.cluster.secret: ${key.length} bytes once decoded; the discovery service needs a 32-byte key` };
  spec.serviceEncryptionKey = key.toString('base64');
  spec.serviceClusterID = cluster.id ?? '';
  if (!spec.serviceClusterID) return { error: '.cluster.id: required by the discovery service registry' };
  return spec;
}

/** `cluster.ConfigController`: DiscoveryConfig `cluster` from the active config's cluster section. */
export class DiscoveryConfigController implements Controller {
  readonly name = 'cluster.ConfigController';

  inputs(): Input[] {
    return [{ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: DiscoveryConfigType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    let reported: string | undefined;
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
      const cluster = cfg ? (parsedConfig(cfg).v1alpha1?.cluster as Cluster | undefined) : undefined;
      if (cluster) {
        const spec = discoveryConfigOf(cluster);
        if ('error' in spec) {
          if (reported !== spec.error) log.warn({ err: spec.error }, 'cluster discovery not configured');
          reported = spec.error;
          continue;
        }
        reported = undefined;
        await r.modify<DiscoveryConfigSpec>({ namespace: ConfigNamespace, type: DiscoveryConfigType, id: DiscoveryConfigID }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: ConfigNamespace, type: DiscoveryConfigType });
    }
  }
}
