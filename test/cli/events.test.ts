import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { handleServerStreamingCall } from '@grpc/grpc-js';
import { type Event, type EventsRequest, MachineStatusEvent, SequenceEvent, ServiceStateEvent } from '../../src/api/gen/machine/machine.js';
import { FakeNode } from '../helpers/fake-node.js';

describe('bronzectl events', () => {
  const node = new FakeNode();
  let request: EventsRequest | undefined;
  before(() => {
    const any = (type: string, bytes: Uint8Array) => ({ typeUrl: `talos/runtime/machine.${type}`, value: Buffer.from(bytes) });
    const events: handleServerStreamingCall<EventsRequest, Event> = (call) => {
      request = call.request;
      call.write({ metadata: undefined, data: { typeUrl: '', value: Buffer.alloc(0) }, id: 'hello', actorId: '' });
      call.write({ metadata: undefined, data: any('SequenceEvent', SequenceEvent.encode(SequenceEvent.fromPartial({ sequence: 'boot', action: 1 })).finish()), id: 'cu8a1', actorId: '' });
      call.write({ metadata: undefined, data: any('ServiceStateEvent', ServiceStateEvent.encode(ServiceStateEvent.fromPartial({ service: 'apid', action: 3, message: 'Health check successful' })).finish()), id: 'cu8a2', actorId: 'x' });
      call.write({
        metadata: undefined,
        data: any('MachineStatusEvent', MachineStatusEvent.encode(MachineStatusEvent.fromPartial({ stage: 4, status: { ready: false, unmetConditions: [{ name: 'time', reason: 'not synced' }] } })).finish()),
        id: 'cu8a3',
        actorId: '',
      });
      call.end();
    };
    return node.start({ events });
  });
  after(() => node.stop());

  it('prints events as they come, skipping the hello message', async () => {
    const r = await node.bronzectl('events', '--tail', '-1', '--actor-id', 'x', '--duration', '90s');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^NODE\s+ID\s+EVENT\s+ACTOR\s+SOURCE\s+MESSAGE$/);
    assert.match(lines[1]!, /^127\.0\.0\.1\s+cu8a1\s+talos\/runtime\/machine\.SequenceEvent\s+boot\s+START$/);
    assert.match(lines[2]!, /^127\.0\.0\.1\s+cu8a2\s+talos\/runtime\/machine\.ServiceStateEvent\s+x\s+apid\s+RUNNING: Health check successful$/);
    assert.match(lines[3]!, /talos\/runtime\/machine\.MachineStatusEvent\s+RUNNING\s+ready: false, unmet conditions: \[time\]$/);
    assert.deepEqual(request, { tailEvents: -1, tailId: '', tailSeconds: 90, withActorId: 'x' });
  });
});
