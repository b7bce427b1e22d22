import { isIP } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { normalizeKeyPEM } from '../client/tls.js';
import { H2_SETTINGS, SessionPool, unixDialer } from './h2.js';
import { H2Connection, type H2Stream, type OutgoingHeaders } from '../api/h2/connection.js';

/** The gRPC message size limit of the Talos API. */
export const MAX_MESSAGE_SIZE = 32 * 1024 * 1024;

/** apid's own identity towards peer apids: a client certificate with the `os:impersonator` role. */
export interface PeerTLS {
  /** CAs a peer's server certificate must chain to (the accepted CAs) */
  ca: string;
  cert: string;
  key: string;
}

/** The address apid dials for a target as the client gave it (an IP or a host name, without port). */
export function peerAddress(target: string, port: number): string {
  if (target === '' || /[\s/]/.test(target)) throw new Error(`invalid target "${target}"`);
  const bare = target.startsWith('[') && target.endsWith(']') ? target.slice(1, -1) : target;
  if (isIP(bare) === 6) return `[${bare}]:${port}`;
  if (bare.includes(':')) throw new Error(`target "${target}" must not carry a port`);
  return `${bare}:${port}`;
}

const LOCAL = 'local';

/** HTTP/2 sessions to the local machined and to peer apids, pooled per target. */
export class Backends {
  /** the local machined's session stays when the peer identity changes; peers' sessions are redialled */
  private readonly localPool = new SessionPool();
  private readonly pool = new SessionPool();
  private readonly localDial: () => H2Connection;
  private peerTLS: PeerTLS | undefined;
  private peerContext: SecureContext | undefined;

  constructor(
    machinedSocket: string,
    private readonly peerPort: number,
    peerTLS?: PeerTLS,
  ) {
    this.localDial = unixDialer(machinedSocket);
    this.peerTLS = peerTLS;
  }

  /** Whether this apid may forward calls to peers (control planes hold a client certificate; workers do not). */
  get canForward(): boolean {
    return this.peerTLS !== undefined;
  }

  /** A call to the local machined; throws when no stream can be opened. */
  local(headers: OutgoingHeaders): H2Stream {
    return this.localPool.get(LOCAL, this.localDial).request(headers);
  }

  /** A call to a peer's apid; throws when this apid does not forward, the target is malformed or no stream opens. */
  remote(target: string, headers: OutgoingHeaders): H2Stream {
    return this.peerSession(target).request(headers);
  }

  private peerSession(target: string): H2Connection {
    const tls = this.peerTLS;
    if (!tls) throw new Error('no request forwarding');
    const address = peerAddress(target, this.peerPort);
    return this.pool.get(address, () => {
      this.peerContext ??= createSecureContext({ ca: tls.ca, cert: tls.cert, key: normalizeKeyPEM(tls.key), minVersion: 'TLSv1.3' });
      const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      const socket = tlsConnect({ host, port, secureContext: this.peerContext, ALPNProtocols: ['h2'], ...(isIP(host) ? {} : { servername: host }) });
      return new H2Connection(socket, { role: 'client', scheme: 'https', authority: address, ...H2_SETTINGS });
    });
  }

  /** New identity material: pooled peer connections are closed (calls in flight finish) so new ones use it. */
  updatePeerTLS(tls: PeerTLS | undefined): void {
    if (JSON.stringify(tls) === JSON.stringify(this.peerTLS)) return;
    this.peerTLS = tls;
    this.peerContext = undefined;
    this.pool.close();
  }

  close(): void {
    this.localPool.destroy();
    this.pool.destroy();
  }
}
