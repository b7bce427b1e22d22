import { type ChannelOptions, Client, credentials } from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import { isIP } from 'node:net';
import { normalizeKeyPEM } from '../client/tls.js';

/** The gRPC message size limit of the Talos API. */
export const MAX_MESSAGE_SIZE = 32 * 1024 * 1024;

/** apid's own identity towards peer apids: a client certificate with the `os:impersonator` role. */
export interface PeerTLS {
  /** CAs a peer's server certificate must chain to (the accepted CAs) */
  ca: string;
  cert: string;
  key: string;
}

const backendOptions: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_SIZE,
  'grpc.max_send_message_length': -1,
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 15_000,
  'grpc.keepalive_time_ms': 30_000,
};

/** The address apid dials for a target as the client gave it (an IP or a host name, without port). */
export function peerAddress(target: string, port: number): string {
  if (target === '' || /[\s/]/.test(target)) throw new Error(`invalid target "${target}"`);
  const bare = target.startsWith('[') && target.endsWith(']') ? target.slice(1, -1) : target;
  if (isIP(bare) === 6) return `[${bare}]:${port}`;
  if (bare.includes(':')) throw new Error(`target "${target}" must not carry a port`);
  return `${bare}:${port}`;
}

/** Connections to the local machined and to peer apids, pooled per target. */
export class Backends {
  private localClient: Client | undefined;
  private readonly peers = new Map<string, Client>();
  private peerTLS: PeerTLS | undefined;

  constructor(
    private readonly machinedSocket: string,
    private readonly peerPort: number,
    peerTLS?: PeerTLS,
  ) {
    this.peerTLS = peerTLS;
  }

  /** Whether this apid may forward calls to peers (control planes hold a client certificate; workers do not). */
  get canForward(): boolean {
    return this.peerTLS !== undefined;
  }

  local(): Client {
    this.localClient ??= new Client(`unix:${this.machinedSocket}`, credentials.createInsecure(), backendOptions);
    return this.localClient;
  }

  remote(target: string): Client {
    const tls = this.peerTLS;
    if (!tls) throw new Error('no request forwarding');
    const address = peerAddress(target, this.peerPort);
    let c = this.peers.get(address);
    if (!c) {
      const ctx = createSecureContext({ ca: tls.ca, cert: tls.cert, key: normalizeKeyPEM(tls.key), minVersion: 'TLSv1.3' });
      c = new Client(address, credentials.createFromSecureContext(ctx), backendOptions);
      this.peers.set(address, c);
    }
    return c;
  }

  /** New identity material: pooled peer connections are dropped so new ones use it. */
  updatePeerTLS(tls: PeerTLS | undefined): void {
    this.peerTLS = tls;
    for (const c of this.peers.values()) c.close();
    this.peers.clear();
  }

  close(): void {
    this.localClient?.close();
    this.localClient = undefined;
    for (const c of this.peers.values()) c.close();
    this.peers.clear();
  }
}
