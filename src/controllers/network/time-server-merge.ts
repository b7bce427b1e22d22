import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ConfigLayer } from '../../resources/codec.js';
import { NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';
import { TimeServerID } from '../../resources/network/time-server-status.js';
import { type TimeServerSpecSpec, TimeServerSpecType } from '../../resources/network/time-server-spec.js';

/**
 * Merges the layered TimeServerSpecs of `network-config` into `network/timeservers`: the highest layer wins
 * (default < cmdline < platform < operator < configuration); specs of the same layer add their servers up.
 */
export class TimeServerMergeController implements Controller {
  readonly name = 'network.TimeServerMergeController';

  inputs(): Input[] {
    return [{ namespace: NetworkConfigNamespace, type: TimeServerSpecType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: TimeServerSpecType, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const layers = (await r.list<TimeServerSpecSpec>({ namespace: NetworkConfigNamespace, type: TimeServerSpecType })).sort((a, b) => (a.metadata.id < b.metadata.id ? -1 : 1));
      let final: TimeServerSpecSpec | undefined;
      for (const { spec } of layers) {
        const rank = ConfigLayer.number(spec.layer);
        if (final && rank < ConfigLayer.number(final.layer)) continue;
        if (final && rank === ConfigLayer.number(final.layer)) final = { ...final, timeServers: [...final.timeServers, ...spec.timeServers] };
        else final = { timeServers: [...spec.timeServers], layer: spec.layer };
      }
      if (final) {
        const merged = final;
        await r.modify<TimeServerSpecSpec>({ namespace: NetworkNamespace, type: TimeServerSpecType, id: TimeServerID }, () => merged, (o) => {
          o.spec = merged;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: TimeServerSpecType });
    }
  }
}
