import type { Logger } from 'pino';
import { Affiliate as PbAffiliate } from '../../api/gen/discovery/client/affiliate.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { DiscoveryClient } from '../../discovery/client.js';
import { type AffiliateSpec, AffiliateType, RawNamespace } from '../../resources/cluster/affiliate.js';
import { DiscoveryConfigID, type DiscoveryConfigSpec, DiscoveryConfigType } from '../../resources/cluster/discovery-config.js';
import { type IdentitySpec, IdentityType, LocalIdentity } from '../../resources/cluster/identity.js';
import { netIP } from '../../resources/codec.js';
import { MachineTypes, type MachineTypeName } from '../../resources/config/machine-type.js';
import { ClusterNamespace, ConfigNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { MachineResetSignalID, MachineResetSignalType } from '../../resources/runtime/machine-reset-signal.js';
import { formatIPv6 } from '../../sys/procfs/netstat.js';
import { buildInfo } from '../../version.js';

/** How long the service keeps this node's data without a refresh (refreshed every half of it). */
const DEFAULT_TTL_MS = 30 * 60_000;

/** An affiliate as the discovery service carries it (addresses as 4 or 16 bytes, the machine type as text). */
export function affiliateToPb(s: AffiliateSpec): PbAffiliate {
  return {
    nodeId: s.nodeId,
    addresses: s.addresses.map((a) => netIP(a).ip),
    hostname: s.hostname,
    nodename: s.nodename,
    machineType: s.machineType,
    operatingSystem: s.operatingSystem,
    controlPlane: s.controlPlane ? { apiServerPort: s.controlPlane.port } : undefined,
  };
}

/** The other way; addresses that are not 4 or 16 bytes and machine types Bronze does not know are left out. */
export function affiliateFromPb(a: PbAffiliate): AffiliateSpec {
  const known = MachineTypes.pairs.some(([n]) => n === a.machineType);
  return {
    nodeId: a.nodeId,
    addresses: a.addresses.flatMap((b) => (b.length === 4 ? [[...b].join('.')] : b.length === 16 ? [formatIPv6(b)] : [])),
    hostname: a.hostname,
    nodename: a.nodename,
    operatingSystem: a.operatingSystem,
    machineType: known ? (a.machineType as MachineTypeName) : 'unknown',
    ...(a.controlPlane ? { controlPlane: { port: a.controlPlane.apiServerPort } } : {}),
  };
}

interface Session {
  key: string;
  client: DiscoveryClient;
  abort: AbortController;
  done: Promise<void>;
  published?: string;
  /** the affiliate's removal was asked for (the node is being reset) */
  leaving?: boolean;
}

/**
 * `cluster.DiscoveryServiceController`: while the service registry is enabled, publishes this node's affiliate to the
 * discovery service (encrypted with the cluster secret) and writes the cluster's other nodes, as the service reports
 * them, as raw Affiliates `service/<node id>`. A new endpoint, secret, cluster id or node identity starts a new client.
 */
export class DiscoveryServiceController implements Controller {
  readonly name = 'cluster.DiscoveryServiceController';

  private readonly reset = (() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  })();

  constructor(private readonly opts: { ttlMs?: number } = {}) {}

  /**
   * Settles once a MachineResetSignal has been acted on: the service confirmed that this node's affiliate is gone,
   * or the node publishes to no service. It stays pending while the service cannot be reached.
   */
  resetHandled(): Promise<void> {
    return this.reset.promise;
  }

  inputs(): Input[] {
    return [
      { namespace: ConfigNamespace, type: DiscoveryConfigType, id: DiscoveryConfigID, kind: 'weak' },
      { namespace: RuntimeNamespace, type: MachineResetSignalType, id: MachineResetSignalID, kind: 'weak' },
      { namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity, kind: 'weak' },
      { namespace: ClusterNamespace, type: AffiliateType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: AffiliateType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    let session: Session | undefined;
    const stop = async () => {
      if (!session) return;
      session.abort.abort();
      await session.done;
      session = undefined;
    };
    try {
      for await (const _ of r.events()) {
        const config = await r.getOptional<DiscoveryConfigSpec>({ namespace: ConfigNamespace, type: DiscoveryConfigType, id: DiscoveryConfigID });
        const identity = await r.getOptional<IdentitySpec>({ namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity });
        // the node is about to be wiped: it leaves the service rather than linger there until its TTL runs out
        const resetting = (await r.getOptional({ namespace: RuntimeNamespace, type: MachineResetSignalType, id: MachineResetSignalID })) !== undefined;
        if (resetting && (!config?.spec.registryServiceEnabled || !identity)) this.reset.resolve();
        if (!config?.spec.registryServiceEnabled) {
          await stop();
          r.startTrackingOutputs();
          await r.cleanupOutputs({ namespace: RawNamespace, type: AffiliateType });
          continue;
        }
        if (!identity) continue;
        const c = config.spec;
        const nodeId = identity.spec.nodeId;
        const key = JSON.stringify([c.serviceEndpoint, c.serviceEndpointInsecure, c.serviceEncryptionKey, c.serviceClusterID, nodeId]);
        if (session?.key !== key) {
          await stop();
          const abort = new AbortController();
          const client = new DiscoveryClient({
            endpoint: c.serviceEndpoint,
            insecure: c.serviceEndpointInsecure,
            clusterId: c.serviceClusterID,
            affiliateId: nodeId,
            key: Buffer.from(c.serviceEncryptionKey, 'base64'),
            ttlMs: this.opts.ttlMs ?? DEFAULT_TTL_MS,
            clientVersion: buildInfo().tag,
            log: log.child({ endpoint: c.serviceEndpoint }),
            onChange: () => r.queueReconcile(),
          });
          session = { key, client, abort, done: client.run(abort.signal) };
          log.info({ endpoint: c.serviceEndpoint, insecure: c.serviceEndpointInsecure }, 'discovery service client started');
        }
        const local = resetting ? undefined : await r.getOptional<AffiliateSpec>({ namespace: ClusterNamespace, type: AffiliateType, id: nodeId });
        if (resetting && !session.leaving) {
          session.leaving = true;
          void session.client.deleteLocalAffiliate().then(() => {
            log.info('the local affiliate was deleted from the discovery service');
            this.reset.resolve();
          });
        } else if (!resetting && local) {
          const pb = affiliateToPb(local.spec);
          const text = JSON.stringify(PbAffiliate.toJSON(pb));
          if (session.published !== text) {
            session.client.setLocalData(pb);
            session.published = text;
          }
        }
        r.startTrackingOutputs();
        for (const a of session.client.affiliates().values()) {
          if (!a.nodeId) continue;
          const spec = affiliateFromPb(a);
          await r.modify<AffiliateSpec>({ namespace: RawNamespace, type: AffiliateType, id: `service/${a.nodeId}` }, () => spec, (o) => {
            o.spec = spec;
          });
        }
        await r.cleanupOutputs({ namespace: RawNamespace, type: AffiliateType });
      }
    } finally {
      await stop();
    }
  }
}
