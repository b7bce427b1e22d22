import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { native, socketFd } from '../../platform/native.js';
import { decode, type DHCPMessage, encode, ipToBytes, type Lease, leaseFromAck, MessageType, messageType, Option } from './dhcp4-packet.js';

/** How DHCP messages leave and arrive: a UDP socket on port 68 by default, replaceable in tests. */
export interface DHCPTransport {
  send(message: Buffer, address: string, port: number): Promise<void>;
  onMessage(handler: (message: Buffer) => void): void;
  close(): void;
}

/**
 * UDP on 0.0.0.0:68 with broadcast, bound to one link (SO_BINDTODEVICE through the native addon), as a DHCP client
 * talks before its link has an address: without the binding the kernel has no route for the broadcast.
 */
export async function udpTransport(link: string, bindAddress = '0.0.0.0'): Promise<DHCPTransport> {
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(68, bindAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setBroadcast(true);
  try {
    native().bindToDevice(socketFd(socket), link);
  } catch (e) {
    socket.close();
    throw e;
  }
  return {
    send: (m, address, port) => new Promise((resolve, reject) => socket.send(m, port, address, (e) => (e ? reject(e) : resolve()))),
    onMessage: (h) => socket.on('message', (m) => h(m)),
    close: () => socket.close(),
  };
}

export class DHCPError extends Error {
  constructor(
    readonly code: 'BRONZE_DHCP_TIMEOUT' | 'BRONZE_DHCP_NAK' | 'BRONZE_DHCP_ABORTED',
    message: string,
  ) {
    super(message);
    this.name = 'DHCPError';
  }
}

export interface DHCP4ClientOptions {
  /** the link's hardware address */
  mac: Buffer;
  /** sent as option 12 so the server may register the name */
  hostname?: string;
  transport: DHCPTransport;
  /** first retransmission delay (RFC 2131: 4 s, doubling up to 64 s) */
  retransmitMs?: number;
  /** attempts per exchange before giving up */
  attempts?: number;
  /** scales lease timers (renewal at T1, rebinding at T2, expiry) for tests; 1 in production */
  timeScale?: number;
  logger?: Logger;
}

const PARAMETERS = [
  Option.SubnetMask,
  Option.Router,
  Option.DNS,
  Option.Hostname,
  Option.DomainName,
  Option.MTU,
  Option.Broadcast,
  Option.NTP,
  Option.LeaseTime,
  Option.ServerID,
  Option.RenewalTime,
  Option.RebindingTime,
  Option.DomainSearch,
  Option.ClasslessRoutes,
];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new DHCPError('BRONZE_DHCP_ABORTED', 'aborted'));
      },
      { once: true },
    );
  });

/**
 * A DHCPv4 client for one link: DISCOVER/OFFER/REQUEST/ACK, renewal at T1 (unicast to the server), rebinding at T2
 * (broadcast), a new DISCOVER when the lease expires or the server says NAK.
 */
export class DHCP4Client {
  private readonly waiters = new Set<(m: DHCPMessage) => void>();
  private readonly retransmitMs: number;
  private readonly attempts: number;
  private readonly scale: number;

  constructor(private readonly opts: DHCP4ClientOptions) {
    this.retransmitMs = opts.retransmitMs ?? 4000;
    this.attempts = opts.attempts ?? 5;
    this.scale = opts.timeScale ?? 1;
    opts.transport.onMessage((raw) => {
      let m: DHCPMessage;
      try {
        m = decode(raw);
      } catch {
        return; // not a DHCP message for us
      }
      if (m.op !== 2 || !m.chaddr.subarray(0, 6).equals(opts.mac.subarray(0, 6))) return;
      for (const w of this.waiters) w(m);
    });
  }

  private message(type: MessageType, xid: number, extra: [number, Buffer][], ciaddr = '0.0.0.0'): Buffer {
    const options = new Map<number, Buffer>([[Option.MessageType, Buffer.from([type])]]);
    options.set(Option.ClientID, Buffer.concat([Buffer.from([1]), this.opts.mac.subarray(0, 6)]));
    if (type !== MessageType.Release) {
      options.set(Option.ParameterRequestList, Buffer.from(PARAMETERS));
      options.set(Option.MaxMessageSize, Buffer.from([0x05, 0xdc]));
      if (this.opts.hostname) options.set(Option.Hostname, Buffer.from(this.opts.hostname));
    }
    for (const [k, v] of extra) options.set(k, v);
    return encode({
      op: 1,
      xid,
      secs: 0,
      broadcast: ciaddr === '0.0.0.0',
      ciaddr,
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      chaddr: this.opts.mac,
      options,
    });
  }

  /** Sends `msg` and waits for a reply with the same xid that `accept` takes, retransmitting with backoff. */
  private async exchange(msg: Buffer, xid: number, to: string, accept: (m: DHCPMessage) => boolean, signal?: AbortSignal): Promise<DHCPMessage> {
    let delay = this.retransmitMs;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (signal?.aborted) throw new DHCPError('BRONZE_DHCP_ABORTED', 'aborted');
      const reply = new Promise<DHCPMessage | undefined>((resolve) => {
        const w = (m: DHCPMessage) => {
          if (m.xid === xid && accept(m)) {
            this.waiters.delete(w);
            clearTimeout(t);
            resolve(m);
          }
        };
        const t = setTimeout(() => {
          this.waiters.delete(w);
          resolve(undefined);
        }, delay);
        this.waiters.add(w);
        signal?.addEventListener(
          'abort',
          () => {
            this.waiters.delete(w);
            clearTimeout(t);
            resolve(undefined);
          },
          { once: true },
        );
      });
      await this.opts.transport.send(msg, to, 67);
      const m = await reply;
      if (m) return m;
      delay = Math.min(delay * 2, 64_000);
    }
    if (signal?.aborted) throw new DHCPError('BRONZE_DHCP_ABORTED', 'aborted');
    throw new DHCPError('BRONZE_DHCP_TIMEOUT', `no DHCP answer after ${this.attempts} attempts`);
  }

  /** DISCOVER → OFFER → REQUEST → ACK. */
  async acquire(signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      const xid = randomInt(0, 2 ** 32 - 1);
      const offer = await this.exchange(this.message(MessageType.Discover, xid, []), xid, '255.255.255.255', (m) => messageType(m) === MessageType.Offer, signal);
      const server = offer.options.get(Option.ServerID);
      const req = this.message(MessageType.Request, xid, [
        [Option.RequestedIP, ipToBytes(offer.yiaddr)],
        ...(server ? ([[Option.ServerID, server]] as [number, Buffer][]) : []),
      ]);
      const reply = await this.exchange(req, xid, '255.255.255.255', (m) => messageType(m) === MessageType.Ack || messageType(m) === MessageType.Nak, signal);
      if (messageType(reply) === MessageType.Ack) return leaseFromAck(reply);
      this.opts.logger?.warn({ server: offer.siaddr }, 'DHCP NAK on request, discovering again');
    }
  }

  /** Renews a lease: unicast to its server (at T1) or broadcast to any server (rebinding at T2). */
  async renew(lease: Lease, rebind: boolean, signal?: AbortSignal): Promise<Lease> {
    const xid = randomInt(0, 2 ** 32 - 1);
    const msg = this.message(MessageType.Request, xid, [], lease.address);
    const reply = await this.exchange(msg, xid, rebind ? '255.255.255.255' : lease.serverId, (m) => messageType(m) === MessageType.Ack || messageType(m) === MessageType.Nak, signal);
    if (messageType(reply) === MessageType.Nak) throw new DHCPError('BRONZE_DHCP_NAK', `server ${lease.serverId} refused to renew ${lease.address}`);
    return leaseFromAck(reply);
  }

  async release(lease: Lease): Promise<void> {
    const xid = randomInt(0, 2 ** 32 - 1);
    await this.opts.transport.send(this.message(MessageType.Release, xid, [[Option.ServerID, ipToBytes(lease.serverId)]], lease.address), lease.serverId, 67);
  }

  /**
   * Keeps a lease for as long as `signal` allows: calls `onLease` for every lease obtained or renewed, and `onExpire`
   * when a lease ran out without renewal (the address must then be removed).
   */
  async run(signal: AbortSignal, onLease: (l: Lease) => void, onExpire: (l: Lease) => void): Promise<void> {
    while (!signal.aborted) {
      let lease: Lease;
      try {
        lease = await this.acquire(signal);
      } catch (e) {
        if (signal.aborted) return;
        this.opts.logger?.warn({ err: (e as Error).message }, 'DHCP discovery failed, retrying');
        continue;
      }
      onLease(lease);
      let obtained = Date.now();
      for (;;) {
        const s = this.scale * 1000;
        const untilRenew = obtained + lease.renewalTime * s - Date.now();
        try {
          await sleep(Math.max(0, untilRenew), signal);
          lease = await this.renew(lease, false, signal).catch(async (e) => {
            if (e instanceof DHCPError && e.code === 'BRONZE_DHCP_NAK') throw e;
            await sleep(Math.max(0, obtained + lease.rebindingTime * s - Date.now()), signal);
            return this.renew(lease, true, signal);
          });
          obtained = Date.now();
          onLease(lease);
        } catch (e) {
          if (signal.aborted) return;
          const nak = e instanceof DHCPError && e.code === 'BRONZE_DHCP_NAK';
          this.opts.logger?.warn({ err: (e as Error).message, address: lease.address }, nak ? 'DHCP lease refused' : 'DHCP lease not renewed');
          // without a NAK the address stays usable until the lease runs out
          if (!nak) {
            try {
              await sleep(Math.max(0, obtained + lease.leaseTime * this.scale * 1000 - Date.now()), signal);
            } catch {
              return;
            }
          }
          onExpire(lease);
          break;
        }
      }
    }
  }
}
