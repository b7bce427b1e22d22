import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { ConfigLayer, type ConfigLayerName } from '../../resources/codec.js';
import { NetworkConfigNamespace, NetworkNamespace } from '../../resources/namespaces.js';

/**
 * Merges the layered specs of one type in `network-config` (IDs `<layer>/<id>`) into `network` (ID `<id>`): for each
 * id the spec of the highest layer wins (default < cmdline < platform < operator < configuration).
 */
export class LayeredMergeController<S extends { layer: ConfigLayerName }> implements Controller {
  constructor(
    readonly name: string,
    private readonly type: string,
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
      const merged = new Map<string, S>();
      for (const { metadata, spec } of await r.list<S>({ namespace: NetworkConfigNamespace, type: this.type })) {
        const id = metadata.id.slice(metadata.id.indexOf('/') + 1);
        const cur = merged.get(id);
        if (!cur || ConfigLayer.number(spec.layer) > ConfigLayer.number(cur.layer)) merged.set(id, spec);
      }
      for (const [id, spec] of merged) {
        await r.modify<S>({ namespace: NetworkNamespace, type: this.type, id }, () => spec, (o) => {
          o.spec = spec;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: this.type });
    }
  }
}
