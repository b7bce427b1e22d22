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

/** Talos's check for APIs of control planes: Unimplemented without a machine type, or on other machine types. */
export function checkControlPlane(machineType: string | undefined, api: string): void {
  if (!machineType || machineType === 'unknown') throw new GrpcStatusError(status.UNIMPLEMENTED, `machine type is not set, cannot use ${api} API`);
  if (machineType !== 'controlplane' && machineType !== 'init') throw new GrpcStatusError(status.UNIMPLEMENTED, `${api} is only available on control plane nodes`);
}
