import { status } from '@grpc/grpc-js';

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
