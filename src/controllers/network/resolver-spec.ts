import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { ResolverID, type ResolverStatusSpec, ResolverStatusType } from '../../resources/network/resolver-status.js';
import { type ResolverSpecSpec, ResolverSpecType } from '../../resources/network/resolver-spec.js';

/** ResolverStatus `resolvers`: the merged spec's DNS servers and search domains, which /etc/resolv.conf is made from. */
export class ResolverSpecController implements Controller {
  readonly name = 'network.ResolverSpecController';

  inputs(): Input[] {
    return [{ namespace: NetworkNamespace, type: ResolverSpecType, id: ResolverID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: ResolverStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const spec = await r.getOptional<ResolverSpecSpec>({ namespace: NetworkNamespace, type: ResolverSpecType, id: ResolverID });
      if (spec) {
        const status: ResolverStatusSpec = { dnsServers: [...spec.spec.dnsServers], searchDomains: [...(spec.spec.searchDomains ?? [])] };
        await r.modify<ResolverStatusSpec>({ namespace: NetworkNamespace, type: ResolverStatusType, id: ResolverID }, () => status, (o) => {
          o.spec = status;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: ResolverStatusType });
    }
  }
}
