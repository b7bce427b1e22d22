import {
  AddressEvent,
  ConfigLoadErrorEvent,
  ConfigValidationErrorEvent,
  MachineStatusEvent,
  machineStatusEvent_MachineStageToJSON,
  PhaseEvent,
  phaseEvent_ActionToJSON,
  SequenceEvent,
  sequenceEvent_ActionToJSON,
  ServiceStateEvent,
  serviceStateEvent_ActionToJSON,
  TaskEvent,
  taskEvent_ActionToJSON,
} from '../../api/gen/machine/machine.js';
import { nodeErrorOf } from '../../client/results.js';
import type { Command } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { outputFormat, structuredPrinter } from '../output/format.js';
import { tabulate } from '../output/tabwriter.js';

const PREFIX = 'talos/runtime/machine.';

/** The SOURCE and MESSAGE columns of an event, as talosctl shows each kind. */
export function describeEvent(typeUrl: string, value: Uint8Array): [string, string] | undefined {
  const kind = typeUrl.startsWith(PREFIX) ? typeUrl.slice(PREFIX.length) : '';
  switch (kind) {
    case 'SequenceEvent': {
      const e = SequenceEvent.decode(value);
      return [e.sequence, e.error ? `error: ${e.error.message}` : sequenceEvent_ActionToJSON(e.action)];
    }
    case 'PhaseEvent': {
      const e = PhaseEvent.decode(value);
      return [e.phase, phaseEvent_ActionToJSON(e.action)];
    }
    case 'TaskEvent': {
      const e = TaskEvent.decode(value);
      return [e.task, taskEvent_ActionToJSON(e.action)];
    }
    case 'ServiceStateEvent': {
      const e = ServiceStateEvent.decode(value);
      return [e.service, `${serviceStateEvent_ActionToJSON(e.action)}: ${e.message}`];
    }
    case 'ConfigLoadErrorEvent':
      return ['error', ConfigLoadErrorEvent.decode(value).error];
    case 'ConfigValidationErrorEvent':
      return ['error', ConfigValidationErrorEvent.decode(value).error];
    case 'AddressEvent': {
      const e = AddressEvent.decode(value);
      return [e.hostname, `ADDRESSES: ${e.addresses.join(',')}`];
    }
    case 'MachineStatusEvent': {
      const e = MachineStatusEvent.decode(value);
      return [machineStatusEvent_MachineStageToJSON(e.stage), `ready: ${e.status?.ready ?? false}, unmet conditions: [${(e.status?.unmetConditions ?? []).map((c) => c.name).join(' ')}]`];
    }
    default:
      return undefined;
  }
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Stream runtime events',
  flags: [
    { name: 'tail', kind: 'int', description: 'show specified number of past events (use -1 to show full history, default is to show no history)', default: 0 },
    { name: 'duration', kind: 'duration', description: 'show events for the past duration interval (one second resolution, default is to show no history)' },
    { name: 'since', kind: 'string', description: 'show events after the specified event ID (default is to show no history)' },
    { name: 'actor-id', kind: 'string', description: 'filter events by the specified actor ID (default is no filter)' },
    { name: 'output', short: 'o', kind: 'string', description: 'output format: table (default), json (one object per event and line) or yaml', default: 'table' },
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx);
    const printYAML = format === 'yaml' ? structuredPrinter(ctx, 'yaml') : undefined;
    return withClient(ctx, async (conn) => {
      const stream = conn.client.machine.events(
        { tailEvents: ctx.int('tail') ?? 0, tailId: ctx.string('since') ?? '', tailSeconds: Math.round((ctx.duration('duration') ?? 0) / 1000), withActorId: ctx.string('actor-id') ?? '' },
        { signal: ctx.io.signal },
      );
      const fallback = defaultNode(conn);
      let header = format === 'table';
      let failed = false;
      for await (const ev of stream) {
        const node = ev.metadata?.hostname || fallback;
        if (ev.metadata?.error) {
          ctx.err(`error: ${nodeFailure(node, nodeErrorOf(ev)!)}\n`);
          failed = true;
          continue;
        }
        // the first message of every stream carries no event: it says the stream is set up
        if (!ev.data || ev.data.typeUrl === '') continue;
        const described = describeEvent(ev.data.typeUrl, ev.data.value);
        if (!described) continue;
        const doc = { id: ev.id, event: ev.data.typeUrl, actorId: ev.actorId, source: described[0], message: described[1] };
        if (format === 'json') {
          ctx.out(`${JSON.stringify({ node, ...doc })}\n`);
          continue;
        }
        if (printYAML) {
          printYAML(node, doc);
          continue;
        }
        // each event is printed (and aligned) as it comes, as talosctl flushes per event
        const rows = header ? [['NODE', 'ID', 'EVENT', 'ACTOR', 'SOURCE', 'MESSAGE']] : [];
        header = false;
        rows.push([node, ev.id, ev.data.typeUrl, ev.actorId, ...described]);
        ctx.out(tabulate(rows));
      }
      return failed ? 1 : 0;
    });
  },
};
