import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type AffiliateSpec, AffiliateType, mergeAffiliate, RawNamespace } from '../../resources/cluster/affiliate.js';
import { ClusterNamespace } from '../../resources/namespaces.js';

/**
 * `cluster.AffiliateMergeController`: the registries' raw affiliates (`cluster-raw`, `<registry>/<node id>`) merged
 * per node into `cluster` Affiliates named by node id. The local node's own affiliate is LocalAffiliateController's.
 */
export class AffiliateMergeController implements Controller {
  readonly name = 'cluster.AffiliateMergeController';

  inputs(): Input[] {
    return [{ namespace: RawNamespace, type: AffiliateType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: AffiliateType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const merged = new Map<string, AffiliateSpec>();
      for (const raw of await r.list<AffiliateSpec>({ namespace: RawNamespace, type: AffiliateType })) {
        const prev = merged.get(raw.spec.nodeId);
        merged.set(raw.spec.nodeId, prev ? mergeAffiliate(prev, raw.spec) : raw.spec);
      }
      for (const [id, spec] of merged) {
        await r.modify<AffiliateSpec>({ namespace: ClusterNamespace, type: AffiliateType, id }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: ClusterNamespace, type: AffiliateType });
    }
  }
}
