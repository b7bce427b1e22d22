import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parsedConfigText } from '../../controllers/config/machine-config-cache.js';
import type { State } from '../../cosi/state.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../../resources/config/machine-config.js';
import { ControlPlaneDiscoveredEndpointsID, type EndpointSpec, EndpointType } from '../../resources/k8s/endpoint.js';
import { ConfigNamespace, ControlPlaneNamespace } from '../../resources/namespaces.js';
import { EtcdClientPort, etcdURLs } from './args.js';

/**
 * The addresses of the cluster's control planes that this node can find without etcd: those cluster discovery found
 * (Endpoints `discovery`, from the control plane members), then the host of the config's
 * `cluster.controlPlane.endpoint` when it is an address, or every address its name resolves to. Talos also learns
 * them from Kubernetes' endpoints, which a Bronze node has not.
 */
export async function controlPlaneAddresses(state: State): Promise<string[]> {
  const discovered = await state.get({ namespace: ControlPlaneNamespace, type: EndpointType, id: ControlPlaneDiscoveredEndpointsID }).catch(() => undefined);
  const fromDiscovery = (discovered?.spec as EndpointSpec | undefined)?.addresses ?? [];
  const fromEndpoint = await endpointAddresses(state);
  return [...new Set([...fromDiscovery, ...fromEndpoint])];
}

async function endpointAddresses(state: State): Promise<string[]> {
  const cfg = await state.get({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID }).catch(() => undefined);
  const text = (cfg?.spec as MachineConfigSpec | undefined)?.text;
  if (!text) return [];
  const endpoint = parsedConfigText(text).v1alpha1?.cluster?.controlPlane?.endpoint;
  if (!endpoint) return [];
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return [];
  }
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/** The etcd client URLs of the control planes (see controlPlaneAddresses), without the node's own addresses. */
export async function controlPlaneEtcdEndpoints(state: State, own: string[] = []): Promise<string[]> {
  const addrs = (await controlPlaneAddresses(state)).filter((a) => !own.includes(a));
  return etcdURLs(addrs, EtcdClientPort);
}
