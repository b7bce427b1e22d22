/** DHCPv4 messages (RFC 2131) and the options (RFC 2132, RFC 3442) a node needs. */

export const enum MessageType {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
}

export const Option = {
  SubnetMask: 1,
  Router: 3,
  DNS: 6,
  Hostname: 12,
  DomainName: 15,
  MTU: 26,
  Broadcast: 28,
  NTP: 42,
  RequestedIP: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerID: 54,
  ParameterRequestList: 55,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientID: 61,
  DomainSearch: 119,
  ClasslessRoutes: 121,
  End: 255,
  Pad: 0,
} as const;

const MAGIC_COOKIE = 0x63825363;
const HEADER_SIZE = 236;

export interface DHCPMessage {
  op: 1 | 2;
  xid: number;
  secs: number;
  broadcast: boolean;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: Buffer;
  /** raw options by code (concatenated when a code repeats, as RFC 3396 says) */
  options: Map<number, Buffer>;
}

export class DHCPFormatError extends Error {
  readonly code = 'BRONZE_DHCP_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'DHCPFormatError';
  }
}

export function ipToBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new DHCPFormatError(`invalid IPv4 address "${ip}"`);
  return Buffer.from(parts);
}

export const bytesToIP = (b: Uint8Array, off = 0) => `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;

export function encode(m: DHCPMessage): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  head[0] = m.op;
  head[1] = 1; // ethernet
  head[2] = 6;
  head[3] = 0;
  head.writeUInt32BE(m.xid >>> 0, 4);
  head.writeUInt16BE(m.secs, 8);
  head.writeUInt16BE(m.broadcast ? 0x8000 : 0, 10);
  ipToBytes(m.ciaddr).copy(head, 12);
  ipToBytes(m.yiaddr).copy(head, 16);
  ipToBytes(m.siaddr).copy(head, 20);
  ipToBytes(m.giaddr).copy(head, 24);
  m.chaddr.copy(head, 28, 0, Math.min(16, m.chaddr.length));
  const opts: Buffer[] = [Buffer.from([0x63, 0x82, 0x53, 0x63])];
  for (const [code, value] of m.options) {
    // long values are split over several instances of the option (RFC 3396)
    for (let off = 0; off < value.length || off === 0; off += 255) {
      const chunk = value.subarray(off, off + 255);
      opts.push(Buffer.from([code, chunk.length]), chunk);
      if (value.length === 0) break;
    }
  }
  opts.push(Buffer.from([Option.End]));
  const out = Buffer.concat([head, ...opts]);
  // some servers drop BOOTP messages shorter than 300 bytes
  return out.length < 300 ? Buffer.concat([out, Buffer.alloc(300 - out.length)]) : out;
}

export function decode(b: Buffer): DHCPMessage {
  if (b.length < HEADER_SIZE + 4) throw new DHCPFormatError(`message too short (${b.length} bytes)`);
  if (b.readUInt32BE(HEADER_SIZE) !== MAGIC_COOKIE) throw new DHCPFormatError('missing DHCP magic cookie');
  const op = b[0];
  if (op !== 1 && op !== 2) throw new DHCPFormatError(`invalid op ${op}`);
  const hlen = Math.min(b[2]!, 16);
  const options = new Map<number, Buffer>();
  let i = HEADER_SIZE + 4;
  while (i < b.length) {
    const code = b[i++]!;
    if (code === Option.Pad) continue;
    if (code === Option.End) break;
    if (i >= b.length) throw new DHCPFormatError(`option ${code} has no length`);
    const len = b[i++]!;
    if (i + len > b.length) throw new DHCPFormatError(`option ${code} overruns the message`);
    const v = b.subarray(i, i + len);
    const prev = options.get(code);
    options.set(code, prev ? Buffer.concat([prev, v]) : Buffer.from(v));
    i += len;
  }
  return {
    op,
    xid: b.readUInt32BE(4),
    secs: b.readUInt16BE(8),
    broadcast: (b.readUInt16BE(10) & 0x8000) !== 0,
    ciaddr: bytesToIP(b, 12),
    yiaddr: bytesToIP(b, 16),
    siaddr: bytesToIP(b, 20),
    giaddr: bytesToIP(b, 24),
    chaddr: Buffer.from(b.subarray(28, 28 + hlen)),
    options,
  };
}

export const messageType = (m: DHCPMessage): number | undefined => m.options.get(Option.MessageType)?.[0];

const ipList = (v: Buffer | undefined): string[] => {
  const out: string[] = [];
  for (let i = 0; v && i + 4 <= v.length; i += 4) out.push(bytesToIP(v, i));
  return out;
};

const u32 = (v: Buffer | undefined) => (v && v.length >= 4 ? v.readUInt32BE(0) : undefined);

export interface ClasslessRoute {
  destination: string;
  prefixLength: number;
  gateway: string;
}

/** Option 121 (RFC 3442): destination descriptors of variable width, each followed by a router. */
export function parseClasslessRoutes(v: Buffer): ClasslessRoute[] {
  const out: ClasslessRoute[] = [];
  let i = 0;
  while (i < v.length) {
    const prefixLength = v[i++]!;
    if (prefixLength > 32) throw new DHCPFormatError(`classless route with prefix length ${prefixLength}`);
    const n = Math.ceil(prefixLength / 8);
    if (i + n + 4 > v.length) throw new DHCPFormatError('truncated classless route');
    const dest = Buffer.alloc(4);
    v.copy(dest, 0, i, i + n);
    i += n;
    out.push({ destination: bytesToIP(dest), prefixLength, gateway: bytesToIP(v, i) });
    i += 4;
  }
  return out;
}

/** Option 119 (RFC 3397): DNS names, with compression pointers into the option itself. */
export function parseDomainSearch(v: Buffer): string[] {
  const names: string[] = [];
  let i = 0;
  const readName = (start: number, depth: number): [string, number] => {
    const labels: string[] = [];
    let p = start;
    let end = -1;
    for (;;) {
      if (p >= v.length) throw new DHCPFormatError('truncated domain search name');
      const len = v[p]!;
      if (len === 0) {
        p++;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (depth > 10 || p + 1 >= v.length) throw new DHCPFormatError('bad compression pointer in domain search');
        const ptr = ((len & 0x3f) << 8) | v[p + 1]!;
        const [rest] = readName(ptr, depth + 1);
        if (rest) labels.push(rest);
        p += 2;
        end = p;
        break;
      }
      labels.push(v.subarray(p + 1, p + 1 + len).toString('latin1'));
      p += 1 + len;
    }
    return [labels.join('.'), end >= 0 ? end : p];
  };
  while (i < v.length) {
    const [name, next] = readName(i, 0);
    if (name) names.push(name);
    i = next;
  }
  return names;
}

/** What a node takes from an ACK. */
export interface Lease {
  address: string;
  prefixLength: number;
  serverId: string;
  routers: string[];
  dns: string[];
  ntp: string[];
  hostname?: string;
  domain?: string;
  searchDomains: string[];
  mtu?: number;
  classlessRoutes: ClasslessRoute[];
  /** seconds */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
}

function maskToPrefix(mask: string): number {
  const n = ipToBytes(mask).readUInt32BE(0);
  const prefix = 32 - Math.log2((~n >>> 0) + 1);
  if (!Number.isInteger(prefix)) throw new DHCPFormatError(`non-contiguous subnet mask ${mask}`);
  return prefix;
}

export function leaseFromAck(m: DHCPMessage): Lease {
  const o = m.options;
  const mask = o.get(Option.SubnetMask);
  const leaseTime = u32(o.get(Option.LeaseTime)) ?? 3600;
  const str = (code: number) => {
    const v = o.get(code);
    return v ? v.toString('utf8').replace(/\0+$/, '') : undefined;
  };
  const mtu = o.get(Option.MTU);
  return {
    address: m.yiaddr,
    prefixLength: mask ? maskToPrefix(bytesToIP(mask)) : 24,
    serverId: ipList(o.get(Option.ServerID))[0] ?? m.siaddr,
    routers: ipList(o.get(Option.Router)),
    dns: ipList(o.get(Option.DNS)),
    ntp: ipList(o.get(Option.NTP)),
    hostname: str(Option.Hostname),
    domain: str(Option.DomainName),
    searchDomains: o.get(Option.DomainSearch) ? parseDomainSearch(o.get(Option.DomainSearch)!) : [],
    mtu: mtu && mtu.length >= 2 ? mtu.readUInt16BE(0) : undefined,
    classlessRoutes: o.get(Option.ClasslessRoutes) ? parseClasslessRoutes(o.get(Option.ClasslessRoutes)!) : [],
    leaseTime,
    renewalTime: u32(o.get(Option.RenewalTime)) ?? Math.floor(leaseTime / 2),
    rebindingTime: u32(o.get(Option.RebindingTime)) ?? Math.floor((leaseTime * 7) / 8),
  };
}
