export { EventStream, withActor, currentActor, toMachineEvent, helloEvent, type StoredEvent, type WatchOptions, type EventStreamOptions } from './stream.js';
export { EVENT_CODECS, TYPE_URL_PREFIX, typeUrlOf, encodePayload, decodePayload, type EventType, type EventPayloads } from './payloads.js';
export { XidGenerator, encodeXid, parseXid, xidSeconds, compareXid, XID_LENGTH, XID_BYTES, type XidGeneratorOptions } from './xid.js';
export { EventsError, type EventsErrorCode } from './errors.js';
