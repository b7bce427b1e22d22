import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { EtcdLocalMemberID, type EtcdMemberSpec, EtcdMemberType, formatMemberID } from '../../resources/etcd/member.js';
import { EtcdNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { type ServiceSpec, ServiceType } from '../../resources/v1alpha1/service.js';

/**
 * `etcd.MemberController`: EtcdMembers `local`, the id of the node's own etcd member, while the etcd service runs
 * and is healthy (asked of the local member); gone otherwise.
 */
export class EtcdMemberController implements Controller {
  readonly name = 'etcd.MemberController';

  constructor(private readonly localMemberID: (signal: AbortSignal) => Promise<bigint | string>) {}

  inputs(): Input[] {
    return [{ namespace: RuntimeNamespace, type: ServiceType, id: 'etcd', kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: EtcdMemberType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, _log: Logger): Promise<void> {
    const ptr = { namespace: EtcdNamespace, type: EtcdMemberType, id: EtcdLocalMemberID };
    for await (const _ of r.events()) {
      const svc = (await r.getOptional<ServiceSpec>({ namespace: RuntimeNamespace, type: ServiceType, id: 'etcd' }))?.spec;
      if (svc?.running && svc.healthy) {
        const id = formatMemberID(await this.localMemberID(signal));
        await r.modify<EtcdMemberSpec>(ptr, () => ({ memberID: id }), (o) => {
          o.spec = { memberID: id };
        });
      } else {
        await r.destroy(ptr).catch(() => undefined);
      }
      r.resetRestartBackoff();
    }
  }
}
