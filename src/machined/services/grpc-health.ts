import { credentials, Client as GrpcClient, Metadata } from '@grpc/grpc-js';

/**
 * Asks a gRPC server on a unix socket for its health (`grpc.health.v1.Health/Check`, empty service name); passes
 * when it answers SERVING. The request is empty on the wire; the answer's field 1 is the status (SERVING = 1).
 *
 * One connection serves check after check while the server answers SERVING: a new channel for every check (an HTTP/2
 * connection, its settings exchange, the channel's resolver and load balancer) was most of an idle node's work. After
 * any failure the channel is dropped, so a restarted server is reached at once and not after the channel's reconnect
 * backoff.
 */
export class GrpcHealthChecker {
  private client?: GrpcClient;

  constructor(private readonly socket: string) {}

  async check(signal: AbortSignal): Promise<void> {
    const client = (this.client ??= new GrpcClient(`unix:${this.socket}`, credentials.createInsecure()));
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
    } catch (e) {
      if (this.client === client) this.close();
      throw e;
    }
  }

  /** Closes the connection (the next check opens a new one). */
  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

/** One health check on a connection of its own. */
export async function grpcHealthCheck(socket: string, signal: AbortSignal): Promise<void> {
  const checker = new GrpcHealthChecker(socket);
  try {
    await checker.check(signal);
  } finally {
    checker.close();
  }
}

/** A service's `health` for a gRPC server on `socket`: one checker for the service, its connection closed when a run ends. */
export function grpcHealth(socket: string): { check: (signal: AbortSignal) => Promise<void>; close: () => void } {
  const checker = new GrpcHealthChecker(socket);
  return { check: (signal) => checker.check(signal), close: () => checker.close() };
}
