/**
 * bronze/client: a client of the Talos API, for Bronze and Talos nodes alike. Load a talosconfig, open a client, make
 * typed calls (unary and streaming) routed to one node (`node`) or fanned out to many (`nodes`), and read per-node
 * answers and errors.
 */
export { Client, type ClientOptions, MAX_MESSAGE_SIZE } from './client.js';
export { DEFAULT_API_PORT, type Endpoint, parseEndpoint } from './endpoint.js';
export { ClientError, type ClientErrorCode, NodeError, RpcError, statusName } from './errors.js';
export { type NodeResults, type NodeStreamItem, nodeErrorOf, nodeOf, nodeResults, nodeStream, type WithMetadata } from './results.js';
export type { CallOptions, DeepPartial, DuplexStream, ResponseStream, ServiceClient } from './rpc.js';
export * from './talosconfig.js';
export { type ClientTLS, channelCredentials, decodePEMField, normalizeKeyPEM } from './tls.js';
export { quietIPServerNameWarning } from './warnings.js';

export { type LoadClientOptions, clientOptionsFromContext, loadClientFromTalosconfig } from './from-talosconfig.js';
