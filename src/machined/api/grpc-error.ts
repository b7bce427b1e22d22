import { type sendUnaryData, type ServerUnaryCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** An error the API answers with this gRPC code and message. */
export class GrpcStatusError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

/** How a part of the API turns its errors into gRPC statuses. */
export type StatusOf = (e: unknown) => { code: status; details: string };

/**
 * A grpc-js unary handler from an async function: its result is the answer, its error becomes a status through
 * `statusOf` (internal errors are logged with `failure` as the message).
 */
export function unaryHandler<Req, Res>(log: Logger, statusOf: StatusOf, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>, failure = 'handler failed') {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    fn(call.request, call).then(
      (r) => cb(null, r),
      (e: unknown) => {
        const err = statusOf(e);
        if (err.code === status.INTERNAL) log.error({ method: call.getPath(), err: err.details }, failure);
        cb(err);
      },
    );
  };
}

/** A signal aborted when the caller cancels the call. */
export function cancelSignal(call: { on(event: 'cancelled', listener: () => void): unknown }): AbortSignal {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  return ac.signal;
}
