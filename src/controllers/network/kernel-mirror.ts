import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { Rtnl, watchNetworkChanges } from '../../sys/netlink/rtnl.js';

/**
 * A status controller that mirrors kernel network state into resources of one type: it reads the kernel through
 * rtnetlink at start and after every change the kernel announces, writes one resource per object and removes the
 * resources of objects that are gone.
 */
export abstract class KernelMirrorController<S> implements Controller {
  abstract readonly name: string;
  protected abstract readonly type: string;
  /** the kernel objects as resources: id and spec */
  protected abstract read(nl: Rtnl): Promise<{ id: string; spec: S }[]>;

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: this.type, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const nl = new Rtnl();
    const unwatch = watchNetworkChanges(() => r.queueReconcile());
    try {
      for await (const _ of r.events()) {
        r.startTrackingOutputs();
        for (const { id, spec } of await this.read(nl)) {
          await r.modify<S>({ namespace: NetworkNamespace, type: this.type, id }, () => spec, (o) => {
            o.spec = spec;
          });
        }
        await r.cleanupOutputs({ namespace: NetworkNamespace, type: this.type });
      }
    } finally {
      unwatch();
      nl.close();
    }
  }
}
