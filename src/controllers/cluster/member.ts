import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type AffiliateSpec, AffiliateType } from '../../resources/cluster/affiliate.js';
import { type MemberSpec, MemberType } from '../../resources/cluster/member.js';
import { ClusterNamespace } from '../../resources/namespaces.js';

/** `cluster.MemberController`: a Member per merged affiliate that has a nodename, named by it. */
export class MemberController implements Controller {
  readonly name = 'cluster.MemberController';

  inputs(): Input[] {
    return [{ namespace: ClusterNamespace, type: AffiliateType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: MemberType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      for (const a of await r.list<AffiliateSpec>({ namespace: ClusterNamespace, type: AffiliateType })) {
        const s = a.spec;
        if (!s.nodename) continue;
        const spec: MemberSpec = {
          nodeId: s.nodeId,
          addresses: [...s.addresses],
          hostname: s.hostname,
          machineType: s.machineType,
          operatingSystem: s.operatingSystem,
          ...(s.controlPlane ? { controlPlane: { ...s.controlPlane } } : {}),
        };
        await r.modify<MemberSpec>({ namespace: ClusterNamespace, type: MemberType, id: s.nodename }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: ClusterNamespace, type: MemberType });
    }
  }
}
