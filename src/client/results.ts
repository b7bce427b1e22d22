import type { Metadata as NodeMetadata } from '../api/gen/common/common.js';
import { NodeError } from './errors.js';

/** An element of a response's `messages` (or a stream element): it carries the node's metadata. */
export interface WithMetadata {
  metadata?: NodeMetadata | undefined;
}

export interface NodeResults<T> {
  /** the elements that answered, with their node (undefined when the call was not fanned out) */
  messages: { node: string | undefined; value: T }[];
  /** one entry per node that failed */
  errors: NodeError[];
}

/** The node that produced a message, as apid labels it in fan-out (`metadata.hostname`). */
export function nodeOf(message: WithMetadata): string | undefined {
  const h = message.metadata?.hostname;
  return h === undefined || h === '' ? undefined : h;
}

/** Splits a fanned-out unary response into per-node answers and per-node errors (`metadata.error`). */
export function nodeResults<T extends WithMetadata>(response: { messages: T[] }): NodeResults<T> {
  const out: NodeResults<T> = { messages: [], errors: [] };
  for (const m of response.messages) {
    const err = nodeErrorOf(m);
    if (err) out.errors.push(err);
    else out.messages.push({ node: nodeOf(m), value: m });
  }
  return out;
}

/** The error a node reported in a message's metadata, if any. */
export function nodeErrorOf(message: WithMetadata): NodeError | undefined {
  const md = message.metadata;
  if (!md || md.error === '') return undefined;
  return new NodeError(md.hostname || 'unknown', md.error, md.status?.code);
}

export type NodeStreamItem<T> = { node: string | undefined; value: T; error?: undefined } | { node: string; error: NodeError; value?: undefined };

/** Labels the elements of a (possibly fanned-out) stream with their node; a node's error becomes an error item. */
export async function* nodeStream<T extends WithMetadata>(stream: AsyncIterable<T>): AsyncGenerator<NodeStreamItem<T>> {
  for await (const m of stream) {
    const err = nodeErrorOf(m);
    if (err) yield { node: err.node, error: err };
    else yield { node: nodeOf(m), value: m };
  }
}
