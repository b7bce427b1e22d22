import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

const brand = Symbol.for('bronze.client.error');

/** Stable codes of client errors; match on `code`, not on messages. */
export type ClientErrorCode =
  | 'BRONZE_CLIENT_ENDPOINT'
  | 'BRONZE_CLIENT_CREDENTIALS'
  | 'BRONZE_CLIENT_NO_ENDPOINTS'
  | 'BRONZE_CLIENT_RPC'
  | 'BRONZE_CLIENT_NODE'
  | 'BRONZE_CLIENT_ROUTING';

export class ClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientError';
    this.code = code;
  }

  get [brand](): true {
    return true;
  }

  /** `instanceof ClientError` holds across duplicate copies of this package; subclasses check the prototype chain. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== ClientError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** A failed gRPC call: the status code and message the server (or the transport) gave, and the endpoint used. */
export class RpcError extends ClientError {
  /** the gRPC status code (`status.UNAVAILABLE`, ...) */
  readonly grpcCode: GrpcStatus;
  readonly details: string;
  readonly endpoint: string | undefined;

  constructor(grpcCode: GrpcStatus, details: string, endpoint?: string, options?: { cause?: unknown }) {
    super('BRONZE_CLIENT_RPC', `rpc error: code = ${statusName(grpcCode)} desc = ${details}`, options);
    this.name = 'RpcError';
    this.grpcCode = grpcCode;
    this.details = details;
    this.endpoint = endpoint;
  }

  static from(err: ServiceError, endpoint?: string): RpcError {
    return new RpcError(err.code ?? GrpcStatus.UNKNOWN, err.details ?? err.message, endpoint, { cause: err });
  }
}

/** An error one node reported inside a fanned-out response (`metadata.error`), with the node it came from. */
export class NodeError extends ClientError {
  readonly node: string;
  readonly grpcCode: GrpcStatus | undefined;

  constructor(node: string, message: string, grpcCode?: GrpcStatus) {
    super('BRONZE_CLIENT_NODE', `${node}: ${message}`);
    this.name = 'NodeError';
    this.node = node;
    this.grpcCode = grpcCode;
  }
}

const names: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.split('_').map((w) => w[0] + w.slice(1).toLowerCase()).join('')]),
);

/** The Go-style status name (`Unavailable`, `PermissionDenied`) that talosctl prints. */
export function statusName(code: number): string {
  return names[code] ?? `Code(${code})`;
}
