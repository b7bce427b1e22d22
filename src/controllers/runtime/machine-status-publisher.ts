import type { Logger } from 'pino';
import type { MachineStatusEvent } from '../../api/gen/machine/machine.js';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { MachineStage, MachineStatusID, type MachineStatusSpec, MachineStatusType } from '../../resources/runtime/machine-status.js';

/** Where MachineStatusEvents go (machined's event stream). */
export interface MachineStatusEventSink {
  publish(type: 'machine.MachineStatusEvent', message: MachineStatusEvent): unknown;
}

/** Publishes every change of `MachineStatuses.runtime.talos.dev/machine` as a MachineStatusEvent. */
export class MachineStatusPublisherController implements Controller {
  readonly name = 'runtime.MachineStatusPublisherController';

  constructor(private readonly sink: MachineStatusEventSink) {}

  inputs(): Input[] {
    return [{ namespace: RuntimeNamespace, type: MachineStatusType, id: MachineStatusID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    let last: string | undefined;
    for await (const _ of r.events()) {
      const ms = await r.getOptional<MachineStatusSpec>({ namespace: RuntimeNamespace, type: MachineStatusType, id: MachineStatusID });
      if (!ms) continue;
      const event: MachineStatusEvent = {
        stage: MachineStage.number(ms.spec.stage),
        status: { ready: ms.spec.status.ready, unmetConditions: ms.spec.status.unmetConditions.map((c) => ({ name: c.name, reason: c.reason })) },
      };
      const key = JSON.stringify(event);
      if (key === last) continue;
      last = key;
      this.sink.publish('machine.MachineStatusEvent', event);
    }
  }
}
