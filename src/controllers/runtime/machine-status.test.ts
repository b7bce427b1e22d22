import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Code } from '../../api/gen/common/common.js';
import { MachineStatusEvent, MachineStatusEvent_MachineStage, SequenceEvent_Action, ServiceStateEvent_Action, TaskEvent_Action } from '../../api/gen/machine/machine.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { EventStream } from '../../machined/events/index.js';
import { MachineTypeID, MachineTypeType } from '../../resources/config/machine-type.js';
import { NetworkStatusID, NetworkStatusType } from '../../resources/network/status.js';
import { MachineStatusID, type MachineStatusSpec, MachineStatusType } from '../../resources/runtime/machine-status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import { ServiceType } from '../../resources/v1alpha1/service.js';
import { ServiceController } from '../v1alpha1/service.js';
import { MachineStatusController, StageTracker } from './machine-status.js';
import { MachineStatusPublisherController } from './machine-status-publisher.js';

describe('the machine stage', () => {
  it('follows sequences, maintenance, fatal failures and a finished boot', () => {
    const t = new StageTracker();
    const seq = (sequence: string, action: SequenceEvent_Action, error?: { code: Code }) => t.apply('machine.SequenceEvent', { sequence, action, error });
    assert.equal(seq('initialize', SequenceEvent_Action.START), 'booting');
    assert.equal(t.apply('machine.TaskEvent', { task: 'runningMaintenance', action: TaskEvent_Action.START }), 'maintenance');
    assert.equal(t.apply('machine.TaskEvent', { task: 'runningMaintenance', action: TaskEvent_Action.STOP }), 'booting');
    assert.equal(seq('initialize', SequenceEvent_Action.STOP), 'booting');
    assert.equal(seq('boot', SequenceEvent_Action.START), 'booting');
    assert.equal(seq('boot', SequenceEvent_Action.STOP), 'running');
    assert.equal(seq('reboot', SequenceEvent_Action.START), 'rebooting');
    assert.equal(seq('reboot', SequenceEvent_Action.NOOP, { code: Code.FATAL }), 'rebooting');
    assert.equal(seq('shutdown', SequenceEvent_Action.START), 'shutting down');
    // a failed shutdown does not turn into a reboot
    assert.equal(seq('shutdown', SequenceEvent_Action.NOOP, { code: Code.FATAL }), 'shutting down');
    assert.equal(seq('reset', SequenceEvent_Action.START), 'resetting');
    assert.equal(seq('upgrade', SequenceEvent_Action.START), 'upgrading');
    assert.equal(t.apply('machine.PhaseEvent', { phase: 'kexec', action: 0 }), 'rebooting');
  });
});

describe('MachineStatus, Services and MachineStatusEvents', () => {
  it('reports readiness with the unmet conditions, mirrors running services, and publishes each change', { timeout: 20_000 }, async () => {
    const state = new State(new InMemoryState());
    const events = new EventStream();
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new ServiceController(events));
    rt.register(new MachineStatusController(events));
    rt.register(new MachineStatusPublisherController(events));
    rt.start();
    const msPtr = { namespace: 'runtime', type: MachineStatusType, id: MachineStatusID };
    const spec = (r: unknown) => (r as { spec: MachineStatusSpec } | undefined)?.spec;
    /** the first MachineStatusEvent (from the oldest) that satisfies pred */
    const published = async (pred: (e: MachineStatusEvent) => boolean) => {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 10_000);
      try {
        for await (const e of events.watch({ tailEvents: -1, signal: ac.signal })) {
          if (e.type !== 'machine.MachineStatusEvent') continue;
          const m = MachineStatusEvent.decode(e.value);
          if (pred(m)) return m;
        }
        throw new Error('no such MachineStatusEvent within 10 s');
      } finally {
        clearTimeout(timer);
        ac.abort();
      }
    };
    try {
      events.publish('machine.SequenceEvent', { sequence: 'boot', action: SequenceEvent_Action.START, error: undefined });
      const booting = spec(await state.watchFor(msPtr, (r) => spec(r)?.stage === 'booting'))!;
      assert.equal(booting.status.ready, false);
      assert.deepEqual(booting.status.unmetConditions.map((c) => c.name), ['time', 'network', 'services']);
      assert.equal(booting.status.unmetConditions[2]!.reason, 'apid not running, machined not running, kubelet not running');

      // a worker with synced time, a ready network and its services running and healthy is ready
      await state.create(newResource({ namespace: 'config', type: MachineTypeType, id: MachineTypeID }, { type: 'worker' }));
      await state.create(newResource({ namespace: 'runtime', type: TimeStatusType, id: TimeStatusID }, { synced: true, epoch: 0, syncDisabled: false }));
      await state.create(newResource({ namespace: 'network', type: NetworkStatusType, id: NetworkStatusID }, { addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: true }));
      for (const service of ['apid', 'machined', 'kubelet']) {
        events.publish('machine.ServiceStateEvent', { service, action: ServiceStateEvent_Action.RUNNING, message: '', health: { unknown: service !== 'apid', healthy: service === 'apid', lastMessage: '', lastChange: undefined } });
      }
      await state.watchFor({ namespace: 'runtime', type: ServiceType, id: 'kubelet' }, (r) => r !== undefined);
      const waiting = spec(await state.watchFor(msPtr, (r) => spec(r)?.status.unmetConditions.length === 1))!;
      assert.deepEqual(waiting.status.unmetConditions, [{ name: 'network', reason: 'waiting on: connectivity' }]);
      await state.updateWithConflicts({ namespace: 'network', type: NetworkStatusType, id: NetworkStatusID }, (r) => {
        (r.spec as { connectivityReady: boolean }).connectivityReady = true;
      });
      events.publish('machine.SequenceEvent', { sequence: 'boot', action: SequenceEvent_Action.STOP, error: undefined });
      const running = spec(await state.watchFor(msPtr, (r) => spec(r)?.stage === 'running' && spec(r)!.status.ready))!;
      assert.deepEqual(running.status.unmetConditions, []);
      // the change went out as a MachineStatusEvent
      assert.deepEqual(await published((e) => e.stage === MachineStatusEvent_MachineStage.RUNNING), { stage: MachineStatusEvent_MachineStage.RUNNING, status: { ready: true, unmetConditions: [] } });

      // an unhealthy service makes it unready; a stopped one disappears from the Services
      events.publish('machine.ServiceStateEvent', { service: 'apid', action: ServiceStateEvent_Action.RUNNING, message: '', health: { unknown: false, healthy: false, lastMessage: 'probe failed', lastChange: undefined } });
      const unhealthy = spec(await state.watchFor(msPtr, (r) => spec(r)?.status.ready === false))!;
      assert.deepEqual(unhealthy.status.unmetConditions, [{ name: 'services', reason: 'apid not healthy' }]);
      events.publish('machine.ServiceStateEvent', { service: 'kubelet', action: ServiceStateEvent_Action.FINISHED, message: '', health: undefined });
      await state.watchFor({ namespace: 'runtime', type: ServiceType, id: 'kubelet' }, (r) => r === undefined);
      await state.watchFor(msPtr, (r) => spec(r)?.status.unmetConditions[0]?.reason === 'apid not healthy, kubelet not running');

      await published((e) => e.status?.unmetConditions[0]?.reason === 'apid not healthy, kubelet not running');
    } finally {
      await rt.stop();
    }
  });
});
