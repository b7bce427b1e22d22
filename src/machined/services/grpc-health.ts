import { credentials, Client as GrpcClient, Metadata } from '@grpc/grpc-js';

/**
 * Asks a gRPC server on a unix socket for its health (`grpc.health.v1.Health/Check`, empty service name); passes
 * when it answers SERVING. The request is empty on the wire; the answer's field 1 is the status (SERVING = 1).
 */
export async function grpcHealthCheck(socket: string, signal: AbortSignal): Promise<void> {
  const client = new GrpcClient(`unix:${socket}`, credentials.createInsecure());
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const call = client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        Buffer.alloc(0),
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (e, r) => (e ? reject(e) : resolve(r!)),
      );
      signal.addEventListener('abort', () => call.cancel(), { once: true });
    });
    const status = reply.length >= 2 && reply[0] === 0x08 ? reply[1] : 0;
    if (status !== 1) throw new Error(`unexpected serving status: ${status}`);
  } finally {
    client.close();
  }
}
