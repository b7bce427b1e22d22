import type { Logger } from 'pino';
import { ServiceStateEvent_Action } from '../../api/gen/machine/machine.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { isNotFound } from '../../cosi/errors.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { type ServiceSpec, ServiceType } from '../../resources/v1alpha1/service.js';


/** What the controller reads from machined's event stream: its service state events, from the oldest kept. */
export interface ServiceEventSource {
  watch(opts: { tailEvents: number; signal: AbortSignal }): AsyncIterable<{ type: string; message: unknown }>;
}

interface ServiceStateMessage {
  service: string;
  action: number;
  health?: { healthy: boolean; unknown: boolean };
}

/**
 * Mirrors the supervisor's services as `Services.v1alpha1.talos.dev`: a service that is running has a resource
 * (running, healthy, health unknown); any other state removes it.
 */
export class ServiceController implements Controller {
  readonly name = 'v1alpha1.ServiceController';

  constructor(private readonly source: ServiceEventSource) {}

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: ServiceType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    for await (const ev of this.source.watch({ tailEvents: -1, signal })) {
      if (ev.type !== 'machine.ServiceStateEvent') continue;
      const msg = ev.message as ServiceStateMessage;
      const ptr = { namespace: RuntimeNamespace, type: ServiceType, id: msg.service };
      try {
        if (msg.action === ServiceStateEvent_Action.RUNNING) {
          const spec: ServiceSpec = { running: true, healthy: msg.health?.healthy ?? false, unknown: msg.health?.unknown ?? true };
          await r.modify<ServiceSpec>(ptr, () => spec, (o) => {
            o.spec = spec;
          });
        } else {
          await r.destroy(ptr);
        }
      } catch (e) {
        if (!isNotFound(e)) log.info({ id: msg.service, err: (e as Error).message }, 'failed updating the service resource');
      }
    }
  }
}
