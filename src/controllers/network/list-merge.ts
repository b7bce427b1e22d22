import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ConfigLayer, type ConfigLayerName } from '../../resources/codec.js';
import { NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';

/**
 * Merges layered list specs (time servers, resolvers) of `network-config` into one spec in `network`: the highest
 * layer wins; specs of the same layer add their lists up.
 */
export class ListMergeController<S extends { layer: ConfigLayerName }> implements Controller {
  constructor(
    readonly name: string,
    private readonly type: string,
    private readonly id: string,
    /** the list fields that add up within a layer */
    private readonly lists: (keyof S)[],
  ) {}

  inputs(): Input[] {
    return [{ namespace: NetworkConfigNamespace, type: this.type, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: this.type, kind: 'shared' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const layers = (await r.list<S>({ namespace: NetworkConfigNamespace, type: this.type })).sort((a, b) => (a.metadata.id < b.metadata.id ? -1 : 1));
      let final: S | undefined;
      for (const { spec } of layers) {
        const rank = ConfigLayer.number(spec.layer);
        if (final && rank < ConfigLayer.number(final.layer)) continue;
        if (final && rank === ConfigLayer.number(final.layer)) {
          const sum: S = { ...final };
          for (const k of this.lists) (sum[k] as unknown) = [...((final[k] as unknown[]) ?? []), ...((spec[k] as unknown[]) ?? [])];
          final = sum;
        } else final = structuredClone(spec);
      }
      if (final) {
        const merged = final;
        await r.modify<S>({ namespace: NetworkNamespace, type: this.type, id: this.id }, () => merged, (o) => {
          o.spec = merged;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: this.type });
    }
  }
}
