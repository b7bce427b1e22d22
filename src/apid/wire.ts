import { Empty as NodeEnvelope, EmptyResponse as NodeEnvelopeResponse } from '../api/gen/common/common.js';

/**
 * Wire-level editing of API responses for fan-out. Every unary response of the enveloped services is
 * `repeated X messages = 1` and every X starts with `common.Metadata metadata = 1`; stream elements are X themselves.
 * Appending a serialized `common.Empty{metadata}` to an element merges that metadata into it (protobuf merge rules), so
 * apid labels each node's answer without decoding the response.
 */

export class WireFormatError extends Error {
  readonly code = 'BRONZE_APID_WIRE_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/** Reads a varint at `offset`; returns the value and the offset after it. */
export function readVarint(buf: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = offset;
  for (;;) {
    if (i >= buf.length) throw new WireFormatError('unexpected message format: truncated varint');
    const b = buf[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
    if (shift > 49) throw new WireFormatError('unexpected message format: varint too long');
  }
}

export function varint(value: number): Buffer {
  const out = Buffer.allocUnsafe(varintSize(value));
  putVarint(out, 0, value);
  return out;
}

function varintSize(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/** Writes `value` as a varint at `pos`; returns the offset after it. */
function putVarint(out: Buffer, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

export interface NodeStatus {
  code: number;
  message: string;
}

/** the label of a node that answered, by target: the same few targets are named on every fanned-out call */
const okLabels = new Map<string, Buffer>();
const OK_LABELS_MAX = 4096;

/** `common.Empty{metadata: {hostname, error, status}}`, serialized. */
export function nodeMetadataBytes(hostname: string, error?: NodeStatus): Buffer {
  if (!error) {
    let label = okLabels.get(hostname);
    if (label === undefined) {
      if (okLabels.size >= OK_LABELS_MAX) okLabels.clear();
      label = Buffer.from(NodeEnvelope.encode(NodeEnvelope.fromPartial({ metadata: { hostname } })).finish());
      okLabels.set(hostname, label);
    }
    return label;
  }
  const message = NodeEnvelope.fromPartial({
    metadata: { hostname, error: error.message, status: { code: error.code, message: error.message } },
  });
  return Buffer.from(NodeEnvelope.encode(message).finish());
}

const TAG_MESSAGES = 0x0a; // field 1, length-delimited

/**
 * Labels a unary response from one node: the response must be exactly one `messages` element (machined always sends
 * one); the node's metadata is appended inside that element.
 */
export function labelUnaryResponse(response: Uint8Array, hostname: string): Buffer {
  if (response.length === 0 || response[0] !== TAG_MESSAGES) throw new WireFormatError('unexpected message format: no messages element');
  const [length, start] = readVarint(response, 1);
  if (start + length !== response.length) throw new WireFormatError('unexpected message format: more than one messages element');
  const body = response.subarray(start);
  const meta = nodeMetadataBytes(hostname);
  const labelled = body.length + meta.length;
  const out = Buffer.allocUnsafe(1 + varintSize(labelled) + labelled);
  out[0] = TAG_MESSAGES;
  let pos = putVarint(out, 1, labelled);
  out.set(body, pos);
  pos += body.length;
  out.set(meta, pos);
  return out;
}

/** Labels one stream element from one node. */
export function labelStreamMessage(message: Uint8Array, hostname: string): Buffer {
  return Buffer.concat([message, nodeMetadataBytes(hostname)]);
}

/** The unary response a failed node contributes to a fanned-out answer. */
export function unaryErrorResponse(hostname: string, error: NodeStatus): Buffer {
  const msg = NodeEnvelopeResponse.fromPartial({
    messages: [{ metadata: { hostname, error: error.message, status: { code: error.code, message: error.message } } }],
  });
  return Buffer.from(NodeEnvelopeResponse.encode(msg).finish());
}

/** The stream element a failed node contributes to a fanned-out stream. */
export function streamErrorMessage(hostname: string, error: NodeStatus): Buffer {
  return nodeMetadataBytes(hostname, error);
}
