import { connect as netConnect } from 'node:net';
import { H2_ERROR, H2Connection, type H2Stream } from '../api/h2/connection.js';

/** apid's HTTP/2 sessions to its backends (machined's socket, peer apids), pooled and dialed again when they close. */

/** HTTP/2 settings for apid's connections: windows large enough that a 32 MiB message does not crawl. */
export const H2_SETTINGS = { streamWindow: 4 << 20, connectionWindow: 16 << 20, maxConcurrentStreams: 1000 };

/** How a connection to a backend is opened. */
export type Dialer = () => H2Connection;

/** A dialer for a unix socket (machined's API). */
export function unixDialer(socket: string): Dialer {
  return () => new H2Connection(netConnect(socket), { role: 'client', scheme: 'http', authority: 'localhost', ...H2_SETTINGS });
}

/**
 * HTTP/2 connections kept per backend and opened again when they close or are told to go away. A connection the
 * pool lets go of takes no new streams and closes once the ones it has are over.
 */
export class SessionPool {
  private readonly sessions = new Map<string, H2Connection>();

  get(key: string, dial: Dialer): H2Connection {
    const s = this.sessions.get(key);
    if (s?.accepting) return s;
    const fresh = dial();
    fresh.onClose(() => {
      if (this.sessions.get(key) === fresh) this.sessions.delete(key);
    });
    // idle connections are closed after 15 minutes, as Talos's backends are
    fresh.socket.setTimeout(15 * 60_000, () => fresh.close());
    this.sessions.set(key, fresh);
    return fresh;
  }

  /** Lets go of every connection: new calls get new ones; each old one closes when its streams have ended. */
  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }

  /** Destroys every connection at once. */
  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** Cancels a backend stream unless it already ended. */
export function cancel(req: H2Stream): void {
  if (!req.closed) req.reset(H2_ERROR.CANCEL);
}
