import type { Logger } from 'pino';
import { StateClient } from '../client/state-client.js';
import { RemoteState } from '../cosi/api/client.js';
import type { Pointer, Resource } from '../cosi/resource.js';
import { State } from '../cosi/state.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../resources/network/hostname-status.js';
import { NodeAddressCurrentID, type NodeAddressSpec, NodeAddressType } from '../resources/network/node-address.js';
import { NetworkNamespace, RuntimeNamespace, SecretsNamespace } from '../resources/namespaces.js';
import { APIServiceConfigID, type APIServiceConfigSpec, APIServiceConfigType } from '../resources/runtime/api-service-config.js';
import { ApiCertificatesID, type ApiCertificatesSpec, ApiCertificatesType } from '../resources/secrets/api-certificates.js';
import type { PeerTLS } from './backends.js';
import type { ServerTLS } from './credentials.js';
import { Apid, splitListen } from './server.js';

export interface ApidMainOptions {
  /** machined's socket serving apid's read-only view of the state */
  stateSocket: string;
  /** machined's API socket */
  machinedSocket: string;
  /** the port of peer apids (default 50000) */
  peerPort?: number;
  logger: Logger;
  signal: AbortSignal;
  /** called each time apid starts serving (tests wait on it) */
  onServing?(listen: string, port: number): void;
}

/** What apid follows in machined's state. */
const watched = {
  config: { namespace: RuntimeNamespace, type: APIServiceConfigType, id: APIServiceConfigID },
  certs: { namespace: SecretsNamespace, type: ApiCertificatesType, id: ApiCertificatesID },
  addresses: { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressCurrentID },
  hostname: { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID },
} satisfies Record<string, Pointer>;

const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** The server TLS of apid from its certificates resource. */
export function serverTLS(c: ApiCertificatesSpec): ServerTLS | undefined {
  if (!c.server) return undefined;
  return { cert: pem(c.server.crt), key: pem(c.server.key), acceptedCAs: c.acceptedCAs.map((x) => pem(x.crt)).join('') };
}

/** apid's identity towards peers (control planes only: workers have no client certificate). */
export function peerTLS(c: ApiCertificatesSpec): PeerTLS | undefined {
  if (!c.client) return undefined;
  return { ca: c.acceptedCAs.map((x) => pem(x.crt)).join(''), cert: pem(c.client.crt), key: pem(c.client.key) };
}

/**
 * Whether a call's target names this node: the host apid listens on (known before the node's addresses are), one of
 * the node's addresses, or its hostname (bare or with its domain).
 */
export function isLocalTarget(target: string, node: LocalNode): boolean {
  return localNames(node).has(target);
}

type LocalNode = { config?: APIServiceConfigSpec; addresses?: NodeAddressSpec; hostname?: HostnameStatusSpec };

/** Every spelling of a target that names this node (addresses bare and in brackets). */
function localNames(node: LocalNode): Set<string> {
  const names = new Set<string>();
  const address = (a: string) => {
    names.add(a);
    names.add(`[${a}]`);
  };
  const listen = node.config?.listenAddress ? splitListen(node.config.listenAddress).host : '';
  if (listen && listen !== '::' && listen !== '0.0.0.0') address(listen);
  const h = node.hostname;
  if (h?.hostname) {
    names.add(h.hostname);
    if (h.domainname) names.add(`${h.hostname}.${h.domainname}`);
  }
  for (const p of node.addresses?.addresses ?? []) address(p.slice(0, p.lastIndexOf('/')));
  return names;
}

/**
 * `isLocalTarget` for a node whose specs are replaced (never changed in place) when they change: the names are worked
 * out again only then, not at every call (a fan-out asks for each of its targets).
 */
export function localTargets(node: LocalNode): (target: string) => boolean {
  let seen: LocalNode = {};
  let names = new Set<string>();
  return (target) => {
    if (seen.config !== node.config || seen.addresses !== node.addresses || seen.hostname !== node.hostname) {
      seen = { config: node.config, addresses: node.addresses, hostname: node.hostname };
      names = localNames(seen);
    }
    return names.has(target);
  };
}

/**
 * apid as a process: it reads its settings (APIServiceConfig), its certificates (ApiCertificates) and the node's
 * names (NodeAddresses, HostnameStatus) from machined's state over its own socket, serves the API while both exist,
 * restarts its listener when the settings change, and swaps certificates in place when they rotate.
 */
export async function runApid(o: ApidMainOptions): Promise<void> {
  const client = StateClient.forSocket(o.stateSocket);
  const state = new State(new RemoteState(client.cosi, { logger: o.logger }));
  const current: { config?: APIServiceConfigSpec; certs?: ApiCertificatesSpec; addresses?: NodeAddressSpec; hostname?: HostnameStatusSpec } = {};
  let apid: Apid | undefined;
  let serving: { listen: string; maintenance: boolean } | undefined;
  let changing = Promise.resolve();

  const isLocal = localTargets(current);

  const reconcile = async () => {
    const { config, certs } = current;
    const tls = certs ? serverTLS(certs) : undefined;
    if (!config || !tls) {
      if (apid) {
        o.logger.info('apid settings or certificates are gone: stopping');
        await apid.stop();
        apid = undefined;
        serving = undefined;
      }
      return;
    }
    const maintenance = config.readonlyRoleMode || config.skipVerifyingClientCert;
    if (apid && serving && (serving.listen !== config.listenAddress || serving.maintenance !== maintenance)) {
      o.logger.info({ listen: config.listenAddress }, 'apid settings changed: restarting the listener');
      await apid.stop();
      apid = undefined;
    }
    if (!apid) {
      apid = new Apid({
        listen: config.listenAddress,
        tls,
        maintenance,
        machinedSocket: o.machinedSocket,
        peerTLS: config.nodeRoutingDisabled ? undefined : peerTLS(certs!),
        peerPort: o.peerPort,
        isLocal,
        logger: o.logger,
      });
      const port = await apid.start();
      serving = { listen: config.listenAddress, maintenance };
      o.onServing?.(config.listenAddress, port);
      return;
    }
    apid.updateTLS(tls);
    apid.updatePeerTLS(config.nodeRoutingDisabled ? undefined : peerTLS(certs!));
  };

  const follow = async (key: keyof typeof watched) => {
    const w = await state.watch(watched[key], {}, o.signal);
    for await (const ev of w) {
      if (ev.type === 'errored') throw new Error(`watching ${watched[key].type}: ${ev.error}`);
      const r = ev.type === 'destroyed' ? undefined : (ev.resource as Resource<never> | undefined);
      (current as Record<string, unknown>)[key] = r?.spec;
      // changes are applied one at a time, in order
      changing = changing.then(reconcile).catch((e: unknown) => o.logger.error({ err: (e as Error).message }, 'apid reconfiguration failed'));
    }
  };

  try {
    await Promise.all((Object.keys(watched) as (keyof typeof watched)[]).map((k) => follow(k).catch((e: unknown) => {
      if (!o.signal.aborted) throw e;
    })));
  } finally {
    await changing;
    await apid?.stop(2000);
    client.close();
  }
}
