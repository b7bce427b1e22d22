import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { LinkStatusType } from '../../resources/network/link-status.js';
import { Rtnl, watchNetworkChanges } from '../../sys/netlink/rtnl.js';

/**
 * A controller that applies the specs of one type to the kernel through rtnetlink (metal): it reconciles whenever the
 * specs or the links change and whenever the kernel announces a change, so what someone else undoes is done again.
 */
export abstract class SpecApplierController<S> implements Controller {
  abstract readonly name: string;
  protected abstract readonly specType: string;
  /** brings the kernel in line with the specs (by id) */
  protected abstract apply(nl: Rtnl, specs: Map<string, S>, log: Logger): Promise<void>;

  inputs(): Input[] {
    return [
      { namespace: NetworkNamespace, type: this.specType, kind: 'weak' },
      { namespace: NetworkNamespace, type: LinkStatusType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    const nl = new Rtnl();
    const unwatch = watchNetworkChanges(() => r.queueReconcile());
    try {
      for await (const _ of r.events()) {
        const specs = new Map((await r.list<S>({ namespace: NetworkNamespace, type: this.specType })).map((x) => [x.metadata.id, x.spec]));
        await this.apply(nl, specs, log);
        r.resetRestartBackoff();
      }
    } finally {
      unwatch();
      nl.close();
    }
  }
}
