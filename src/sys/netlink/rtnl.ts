import { isIP } from 'node:net';
import { createRtNetlink, FlagsGet, rt, type RtNetlinkSocket } from 'netlink';

/** A link as the kernel reports it. */
export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  /** the carrier is up (IFF_LOWER_UP) */
  lowerUp: boolean;
  mtu: number;
  hardwareAddr: string;
  /** `ethernet`, `loopback`, ... from the ARPHRD type */
  type: string;
  /** `veth`, `bridge`, `vlan`, ... for virtual links */
  kind?: string;
  operState: string;
  /** IFF_* flags as a bit mask */
  flags: number;
  /** the carrier is present */
  carrier: boolean;
  broadcastAddr: string;
  queueDisc: string;
  /** the link this one sits on (IFLA_LINK), 0 for none */
  linkIndex: number;
  /** the bond or bridge this link is enslaved to, 0 for none */
  masterIndex: number;
}

/** IFF_* link flags by the netlink package's names, in bit order. */
const IFF = ['up', 'broadcast', 'debug', 'loopback', 'pointopoint', 'notrailers', 'running', 'noarp', 'promisc', 'allmulti', 'master', 'slave', 'multicast', 'portsel', 'automedia', 'dynamic', 'lowerUp', 'dormant', 'echo'];
const hex = (b: Uint8Array | undefined) => (b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : '');

export interface AddressInfo {
  linkIndex: number;
  linkName: string;
  /** `10.0.0.5/24` */
  cidr: string;
  family: 'inet' | 'inet6';
  scope: number;
}

export interface RouteInfo {
  family: 'inet' | 'inet6';
  /** `0.0.0.0/0` for the default route */
  destination: string;
  gateway?: string;
  source?: string;
  outLinkIndex?: number;
  table: number;
  priority: number;
  protocol: string;
  scope: string;
  type: string;
}

export class NetlinkError extends Error {
  constructor(
    readonly code: 'BRONZE_NETLINK_NO_LINK' | 'BRONZE_NETLINK_BAD_ADDRESS' | 'BRONZE_NETLINK_BAD_MESSAGE' | 'BRONZE_NETLINK_REQUEST',
    message: string,
    options?: { cause?: unknown },
    /** the kernel's answer to a rejected request, by its errno name (`ENETUNREACH`, `EEXIST`, ...) */
    readonly errno?: string,
  ) {
    super(message, options);
    this.name = 'NetlinkError';
  }
}

const AF_INET = 2;
const NLM_F_REPLACE = 0x100;
const NLM_F_CREATE = 0x400;
const AF_INET6 = 10;
const OPER_STATES = ['unknown', 'notPresent', 'down', 'lowerLayerDown', 'testing', 'dormant', 'up'];

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v === 6) {
    const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
    return b;
  }
  throw new NetlinkError('BRONZE_NETLINK_BAD_ADDRESS', `invalid IP address "${ip}"`);
}

function bytesIP(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    // compress the longest run of zero groups
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return undefined;
}

/** The IFLA_INFO_KIND attribute nested in IFLA_LINKINFO (`veth`, `bridge`, ...). */
function linkKind(info: Buffer | undefined): string | undefined {
  for (let off = 0; info && off + 4 <= info.length; ) {
    const len = info.readUInt16LE(off);
    const type = info.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (type === 1) return info.subarray(off + 4, off + len).toString('latin1').replace(/\0+$/, '');
    off += (len + 3) & ~3;
  }
  return undefined;
}

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
/** an ifinfomsg asking for every link */
const IFINFOMSG_ANY = Buffer.alloc(16);
/** the IFLA_* attributes a LinkInfo is made of */
const IFLA_ADDRESS = 1;
const IFLA_BROADCAST = 2;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_QDISC = 6;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_CARRIER = 33;
/** the IFF_* bits LinkInfo.flags keeps (through IFF_ECHO) */
const IFF_MASK = (1 << IFF.length) - 1;

/** A NUL-terminated string attribute. */
function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}

/** The ARPHRD_* link type by the netlink package's name (`ether`, `loopback`, ...), or its number. */
function linkTypeName(t: number): string {
  return String(Object.hasOwn(rt.LinkType, t) ? rt.LinkType[t] : t).toLowerCase();
}

/**
 * One RTM_NEWLINK message body (an ifinfomsg, then attributes) as a LinkInfo: only the attributes it needs are read.
 * A message too short for its header, or an attribute that runs past the end, is an error.
 */
export function parseLinkMessage(data: Buffer): LinkInfo {
  if (data.length < 16) throw new NetlinkError('BRONZE_NETLINK_BAD_MESSAGE', `link message of ${data.length} bytes, shorter than its header`);
  const flags = data.readUInt32LE(8);
  const link: LinkInfo = {
    index: data.readInt32LE(4),
    name: '',
    up: (flags & 1) !== 0,
    lowerUp: (flags & (1 << 16)) !== 0,
    mtu: 0,
    hardwareAddr: '',
    type: linkTypeName(data.readUInt16LE(2)),
    kind: undefined,
    operState: 'unknown',
    flags: flags & IFF_MASK,
    carrier: false,
    broadcastAddr: '',
    queueDisc: '',
    linkIndex: 0,
    masterIndex: 0,
  };
  for (let off = 16; off + 4 <= data.length; ) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > data.length) throw new NetlinkError('BRONZE_NETLINK_BAD_MESSAGE', `link ${link.index}: attribute at byte ${off} has length ${len}`);
    const v = data.subarray(off + 4, off + len);
    switch (data.readUInt16LE(off + 2) & 0x3fff) {
      case IFLA_ADDRESS:
        link.hardwareAddr = hex(v);
        break;
      case IFLA_BROADCAST:
        link.broadcastAddr = hex(v);
        break;
      case IFLA_IFNAME:
        link.name = cString(v);
        break;
      case IFLA_MTU:
        if (v.length >= 4) link.mtu = v.readUInt32LE(0);
        break;
      case IFLA_LINK:
        if (v.length >= 4) link.linkIndex = v.readInt32LE(0);
        break;
      case IFLA_QDISC:
        link.queueDisc = cString(v);
        break;
      case IFLA_MASTER:
        if (v.length >= 4) link.masterIndex = v.readUInt32LE(0);
        break;
      case IFLA_OPERSTATE:
        if (v.length >= 1) link.operState = OPER_STATES[v[0]!] ?? 'unknown';
        break;
      case IFLA_LINKINFO:
        link.kind = linkKind(v);
        break;
      case IFLA_CARRIER:
        link.carrier = v.length >= 1 && v[0] !== 0;
        break;
    }
    off += (len + 3) & ~3;
  }
  return link;
}

/** Splits `10.0.0.5/24` into address and prefix length, checking both. */
export function parseCIDR(cidr: string): { ip: string; prefix: number; family: 'inet' | 'inet6' } {
  const slash = cidr.lastIndexOf('/');
  const ip = slash < 0 ? cidr : cidr.slice(0, slash);
  const v = isIP(ip);
  if (v === 0) throw new NetlinkError('BRONZE_NETLINK_BAD_ADDRESS', `invalid address "${cidr}"`);
  const max = v === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new NetlinkError('BRONZE_NETLINK_BAD_ADDRESS', `invalid prefix length in "${cidr}"`);
  return { ip, prefix, family: v === 4 ? 'inet' : 'inet6' };
}

/**
 * Link dumps shared by every caller in the process. Several network controllers list the links after each change the
 * kernel announces, and a dump costs a busy machined real time; a call made while a dump is under way joins the next
 * one, which starts once that one is over, so no caller gets an answer older than its call, and a burst of callers
 * costs two dumps instead of one each.
 */
export class SharedLinkDump {
  private running?: Promise<LinkInfo[]>;
  private next?: Promise<LinkInfo[]>;

  constructor(private readonly dump: () => Promise<LinkInfo[]>) {}

  list(): Promise<LinkInfo[]> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = () => this.start();
    this.next = this.running.then(after, after);
    return this.next;
  }

  private start(): Promise<LinkInfo[]> {
    this.next = undefined;
    const run = this.dump();
    this.running = run;
    const done = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(done, done);
    return run;
  }
}

/** The socket the shared link dumps go through: opened on first use, it keeps the process alive only while it waits. */
let dumpSocket: RtNetlinkSocket | undefined;

const linkDumps = new SharedLinkDump(async () => {
  if (!dumpSocket) {
    dumpSocket = createRtNetlink();
    dumpSocket.socket.on('error', () => undefined);
    dumpSocket.socket.ref(false);
  }
  const sock = dumpSocket;
  let msgs;
  try {
    [msgs] = await sock.socket.request(RTM_GETLINK, IFINFOMSG_ANY, { flags: FlagsGet.DUMP });
  } catch (e) {
    // a socket that failed is not used again
    if (dumpSocket === sock) {
      dumpSocket = undefined;
      sock.socket.close();
    }
    throw new NetlinkError('BRONZE_NETLINK_REQUEST', `list links: ${(e as Error).message}`, { cause: e });
  }
  return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => parseLinkMessage(m.data));
});

/**
 * Links, addresses and routes through rtnetlink (the `netlink` package), in the network namespace of this process:
 * what the network spec controllers apply on the metal platform.
 */
export class Rtnl {
  private readonly sock: RtNetlinkSocket;

  constructor() {
    this.sock = createRtNetlink();
    // without a listener, a socket error would be thrown inside the addon's callback and abort the process; the
    // pending request fails on its own
    this.sock.socket.on('error', () => undefined);
  }

  close(): void {
    this.sock.socket.close();
  }

  /** Requests run one at a time: dumps on one socket must not overlap, their multipart replies would interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  private req<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn).catch((e: unknown) => {
      const message = (e as Error).message;
      throw new NetlinkError('BRONZE_NETLINK_REQUEST', `${what}: ${message}`, { cause: e }, /^Request rejected: (E[A-Z0-9]+)$/.exec(message)?.[1]);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Every link of the namespace. The dump is read here, not by the netlink package's parser: that one decodes every
   * attribute the kernel sends (the counters, each address family's settings) into objects, and the network
   * controllers list the links again after every change the kernel announces.
   */
  async links(): Promise<LinkInfo[]> {
    // what this Rtnl was asked to change before is done first; then the process's shared dump (SharedLinkDump)
    await this.queue;
    return (await linkDumps.list()).map((l) => ({ ...l }));
  }

  async link(name: string): Promise<LinkInfo> {
    const l = (await this.links()).find((x) => x.name === name);
    if (!l) throw new NetlinkError('BRONZE_NETLINK_NO_LINK', `link "${name}" not found`);
    return l;
  }

  async setLinkUp(name: string, up: boolean): Promise<void> {
    const l = await this.link(name);
    await this.req(`set link ${name} ${up ? 'up' : 'down'}`, () => this.sock.setLink({ index: l.index, change: { up: true }, flags: up ? { up: true } : {} }));
  }

  async setMTU(name: string, mtu: number): Promise<void> {
    const l = await this.link(name);
    await this.req(`set MTU of ${name} to ${mtu}`, () => this.sock.setLink({ index: l.index }, { mtu }));
  }

  async addresses(): Promise<AddressInfo[]> {
    const msgs = await this.req('list addresses', () => this.sock.getAddresses());
    const links = await this.links();
    const names = new Map(links.map((l) => [l.index, l.name]));
    return msgs.map((m) => {
      const ip = bytesIP(m.attrs.local ?? m.attrs.address) ?? '';
      return {
        linkIndex: m.data.index ?? 0,
        linkName: names.get(m.data.index ?? 0) ?? '',
        cidr: `${ip}/${m.data.prefixlen ?? 0}`,
        family: m.data.family === AF_INET6 ? 'inet6' : 'inet',
        scope: m.data.scope ?? 0,
      };
    });
  }

  async addAddress(linkName: string, cidr: string): Promise<void> {
    const l = await this.link(linkName);
    const { ip, prefix, family } = parseCIDR(cidr);
    const bytes = ipBytes(ip);
    await this.req(`add address ${cidr} to ${linkName}`, () =>
      this.sock.newAddress(
        { family: family === 'inet' ? AF_INET : AF_INET6, prefixlen: prefix, index: l.index },
        { local: bytes, address: bytes },
        { flags: NLM_F_CREATE | NLM_F_REPLACE },
      ),
    );
  }

  async removeAddress(linkName: string, cidr: string): Promise<void> {
    const l = await this.link(linkName);
    const { ip, prefix, family } = parseCIDR(cidr);
    const bytes = ipBytes(ip);
    await this.req(`remove address ${cidr} from ${linkName}`, () =>
      this.sock.delAddress({ family: family === 'inet' ? AF_INET : AF_INET6, prefixlen: prefix, index: l.index }, { local: bytes, address: bytes }),
    );
  }

  async routes(): Promise<RouteInfo[]> {
    const msgs = await this.req('list routes', () => this.sock.getRoutes());
    return msgs.map((m) => {
      const family = m.data.family === AF_INET6 ? 'inet6' : 'inet';
      const dst = bytesIP(m.attrs.dst) ?? (family === 'inet' ? '0.0.0.0' : '::');
      return {
        family,
        destination: `${dst}/${m.data.dstLen ?? 0}`,
        gateway: bytesIP(m.attrs.gateway),
        source: bytesIP(m.attrs.prefsrc),
        outLinkIndex: m.attrs.oif,
        table: m.attrs.table ?? m.data.table ?? 0,
        priority: m.attrs.priority ?? 0,
        protocol: String(m.data.protocol ?? ''),
        scope: String(m.data.scope ?? ''),
        type: String(m.data.type ?? ''),
      };
    });
  }

  /** Adds (or replaces) a route: `destination` in CIDR form (`0.0.0.0/0` for default), via `gateway` or on-link. */
  async addRoute(r: { destination: string; gateway?: string; link?: string; source?: string; priority?: number; table?: number }): Promise<void> {
    const { ip, prefix, family } = parseCIDR(r.destination);
    const oif = r.link ? (await this.link(r.link)).index : undefined;
    await this.req(`add route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ''}`, () =>
      this.sock.newRoute(
        {
          family: family === 'inet' ? AF_INET : AF_INET6,
          dstLen: prefix,
          table: r.table && r.table < 256 ? r.table : 254,
          protocol: 'STATIC',
          scope: r.gateway ? 'UNIVERSE' : 'LINK',
          type: 'UNICAST',
        },
        {
          ...(prefix > 0 ? { dst: ipBytes(ip) } : {}),
          ...(r.gateway ? { gateway: ipBytes(r.gateway) } : {}),
          ...(r.source ? { prefsrc: ipBytes(r.source) } : {}),
          ...(oif !== undefined ? { oif } : {}),
          ...(r.priority !== undefined ? { priority: r.priority } : {}),
          ...(r.table !== undefined ? { table: r.table } : {}),
        },
        { flags: NLM_F_CREATE | NLM_F_REPLACE },
      ),
    );
  }

  async removeRoute(r: { destination: string; gateway?: string; link?: string; priority?: number; table?: number }): Promise<void> {
    const { ip, prefix, family } = parseCIDR(r.destination);
    const oif = r.link ? (await this.link(r.link)).index : undefined;
    await this.req(`remove route ${r.destination}`, () =>
      this.sock.delRoute(
        { family: family === 'inet' ? AF_INET : AF_INET6, dstLen: prefix, table: r.table && r.table < 256 ? r.table : 254 },
        {
          ...(prefix > 0 ? { dst: ipBytes(ip) } : {}),
          ...(r.gateway ? { gateway: ipBytes(r.gateway) } : {}),
          ...(oif !== undefined ? { oif } : {}),
          ...(r.priority !== undefined ? { priority: r.priority } : {}),
        },
      ),
    );
  }
}

export { bytesIP as formatIP, ipBytes as parseIP };

/**
 * Calls `changed` whenever the kernel announces a change of links, addresses or routes (rtnetlink multicast groups);
 * returns the function that stops watching. The watch does not keep the process alive.
 */
export function watchNetworkChanges(changed: () => void): () => void {
  const sock = createRtNetlink();
  for (const group of ['LINK', 'IPV4_IFADDR', 'IPV6_IFADDR', 'IPV4_ROUTE', 'IPV6_ROUTE'] as const) sock.addMembership(group);
  // run the callback outside the addon's receive callback: an exception thrown there would abort the process
  let closed = false;
  const notify = () => {
    if (!closed) setImmediate(changed);
  };
  sock.on('message', notify);
  sock.on('invalid', notify);
  // ENOBUFS (notifications were dropped) and other socket errors: the listener re-reads everything
  sock.socket.on('error', notify);
  sock.socket.unref();
  return () => {
    if (closed) return;
    closed = true;
    sock.socket.close();
  };
}
