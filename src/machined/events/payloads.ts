import {
  AddressEvent,
  ConfigLoadErrorEvent,
  ConfigValidationErrorEvent,
  MachineStatusEvent,
  PhaseEvent,
  RestartEvent,
  SequenceEvent,
  ServiceStateEvent,
  TaskEvent,
} from '../../api/gen/machine/machine.js';

/**
 * The payload types an Events stream may carry, by proto full name. talosctl and the Go client refuse any other
 * type URL (the whole watch fails), so nothing else can be published.
 */
export const EVENT_CODECS = {
  'machine.SequenceEvent': SequenceEvent,
  'machine.PhaseEvent': PhaseEvent,
  'machine.TaskEvent': TaskEvent,
  'machine.ServiceStateEvent': ServiceStateEvent,
  'machine.ConfigLoadErrorEvent': ConfigLoadErrorEvent,
  'machine.ConfigValidationErrorEvent': ConfigValidationErrorEvent,
  'machine.AddressEvent': AddressEvent,
  'machine.MachineStatusEvent': MachineStatusEvent,
  'machine.RestartEvent': RestartEvent,
} as const;

export type EventType = keyof typeof EVENT_CODECS;

export interface EventPayloads {
  'machine.SequenceEvent': SequenceEvent;
  'machine.PhaseEvent': PhaseEvent;
  'machine.TaskEvent': TaskEvent;
  'machine.ServiceStateEvent': ServiceStateEvent;
  'machine.ConfigLoadErrorEvent': ConfigLoadErrorEvent;
  'machine.ConfigValidationErrorEvent': ConfigValidationErrorEvent;
  'machine.AddressEvent': AddressEvent;
  'machine.MachineStatusEvent': MachineStatusEvent;
  'machine.RestartEvent': RestartEvent;
}

/** Prefix of every event's Any.type_url. */
export const TYPE_URL_PREFIX = 'talos/runtime/';

export function typeUrlOf(type: EventType): string {
  return `${TYPE_URL_PREFIX}${type}`;
}

/** Encodes a payload for Any.value. */
export function encodePayload<T extends EventType>(type: T, message: EventPayloads[T]): Uint8Array {
  const codec = EVENT_CODECS[type] as unknown as { encode(m: EventPayloads[T]): { finish(): Uint8Array } };
  return codec.encode(message).finish();
}

/** Decodes an Any back into its payload, or undefined for a type URL outside the set. */
export function decodePayload(typeUrl: string, value: Uint8Array): { type: EventType; message: EventPayloads[EventType] } | undefined {
  if (!typeUrl.startsWith(TYPE_URL_PREFIX)) return undefined;
  const type = typeUrl.slice(TYPE_URL_PREFIX.length) as EventType;
  const codec = EVENT_CODECS[type] as unknown as { decode(b: Uint8Array): EventPayloads[EventType] } | undefined;
  if (!codec) return undefined;
  return { type, message: codec.decode(value) };
}
