import type { Metadata } from '@grpc/grpc-js';

/** A ts-proto message codec, as the generated service definitions reference them. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

export interface MethodDefinition {
  name: string;
  requestType: MessageCodec<unknown>;
  requestStream: boolean;
  responseType: MessageCodec<unknown>;
  responseStream: boolean;
}

/** A ts-proto generic service definition (`MachineServiceDefinition`, `StateDefinition`, ...). */
export interface ServiceDefinition {
  name: string;
  fullName: string;
  methods: Record<string, MethodDefinition>;
}

type Builtin = Date | ((...args: never[]) => unknown) | Uint8Array | string | number | bigint | boolean | undefined;

/** What a request may leave out: every field, at every depth, takes its protobuf default. */
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends ReadonlyArray<infer U>
      ? ReadonlyArray<DeepPartial<U>>
      : T extends object
        ? { [K in keyof T]?: DeepPartial<T[K]> }
        : Partial<T>;

/** A grpc-js service definition as ts-proto generates it (`MachineServiceService`): the typed method names. */
export type GrpcServiceDefinition = Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;

export type RequestOf<M> = M extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
export type ResponseOf<M> = M extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;

export interface CallOptions {
  /** fan the call out to these nodes through apid (`nodes` metadata); responses carry per-node metadata */
  nodes?: string[];
  /** proxy the call to this one node through apid (`node` metadata) */
  node?: string;
  /** give up after this many milliseconds (a gRPC deadline the server sees too) */
  timeout?: number;
  /** an absolute deadline; the earlier of `timeout` and `deadline` wins */
  deadline?: Date;
  /** cancels the call */
  signal?: AbortSignal;
  /** extra request metadata */
  metadata?: Record<string, string | string[]>;
}

/** A server stream: iterate it with `for await`; `cancel()` ends it early. */
export interface ResponseStream<T> extends AsyncIterable<T> {
  cancel(): void;
  /** the response headers, once the server sent them */
  headers(): Promise<Metadata>;
}

/** A bidirectional stream. */
export interface DuplexStream<Req, Res> extends ResponseStream<Res> {
  write(message: DeepPartial<Req>): Promise<void>;
  end(): void;
}

type Unary<M> = (request?: DeepPartial<RequestOf<M>>, options?: CallOptions) => Promise<ResponseOf<M>>;
type ServerStreaming<M> = (request?: DeepPartial<RequestOf<M>>, options?: CallOptions) => ResponseStream<ResponseOf<M>>;
type ClientStreaming<M> = (
  requests: Iterable<DeepPartial<RequestOf<M>>> | AsyncIterable<DeepPartial<RequestOf<M>>>,
  options?: CallOptions,
) => Promise<ResponseOf<M>>;
type Bidi<M> = (options?: CallOptions) => DuplexStream<RequestOf<M>, ResponseOf<M>>;

/** Typed calls of one service: `client.machine.version()`, `client.machine.logs({ id: 'apid', follow: true })`. */
export type ServiceClient<S extends GrpcServiceDefinition> = {
  [K in keyof S]: S[K] extends { requestStream: false; responseStream: false }
    ? Unary<S[K]>
    : S[K] extends { requestStream: false; responseStream: true }
      ? ServerStreaming<S[K]>
      : S[K] extends { requestStream: true; responseStream: false }
        ? ClientStreaming<S[K]>
        : Bidi<S[K]>;
};
