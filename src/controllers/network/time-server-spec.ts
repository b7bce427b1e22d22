import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { TimeServerID, type TimeServerStatusSpec, TimeServerStatusType } from '../../resources/network/time-server-status.js';
import { type TimeServerSpecSpec, TimeServerSpecType } from '../../resources/network/time-server-spec.js';

/** TimeServerStatus `timeservers`: the merged spec's servers, which the time sync uses. */
export class TimeServerSpecController implements Controller {
  readonly name = 'network.TimeServerSpecController';

  inputs(): Input[] {
    return [{ namespace: NetworkNamespace, type: TimeServerSpecType, id: TimeServerID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: TimeServerStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const spec = await r.getOptional<TimeServerSpecSpec>({ namespace: NetworkNamespace, type: TimeServerSpecType, id: TimeServerID });
      if (spec) {
        const status: TimeServerStatusSpec = { timeServers: [...spec.spec.timeServers] };
        await r.modify<TimeServerStatusSpec>({ namespace: NetworkNamespace, type: TimeServerStatusType, id: TimeServerID }, () => status, (o) => {
          o.spec = status;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: TimeServerStatusType });
    }
  }
}
