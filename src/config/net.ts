/** Address, prefix, endpoint and URL checks with Go's net, net/netip and net/url semantics, as Talos validation uses them. */
import { isIPv4, isIPv6 } from 'node:net';

/** Go's net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 (no zone). */
export function isIP(s: string): boolean {
  if (isIPv4(s)) return !/(^|\.)0\d/.test(s);
  return isIPv6(s) && !s.includes('%');
}

/** Go's net.ParseCIDR: address/prefix-length with the length in range for the family. */
export function isCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return false;
  const bits = Number(len);
  if (isIP(addr)) return bits <= (isIPv4(addr) ? 32 : 128);
  return false;
}

/** siderolabs/net ParseSubnetOrAddress: a CIDR, or a bare address taken as a host prefix. */
export function isSubnetOrAddress(s: string): boolean {
  return s.includes('/') ? isCIDR(s) : isIP(s);
}

/** IP or CIDR, as Talos's validateIPOrCIDR. */
export function isIPOrCIDR(s: string): boolean {
  return s.includes('/') ? isCIDR(s) : isIP(s);
}

/** The unspecified address (0.0.0.0 or ::). */
export function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || (isIPv6(ip) && /^[0:]+$/.test(ip));
}

/** A parsed URL as Go's net/url splits it. */
export interface GoURL {
  scheme: string;
  /** host[:port] as written */
  host: string;
  hostname: string;
  port: string;
  path: string;
  user: boolean;
  opaque: boolean;
}

/** Go's url.Parse, in the parts Talos looks at; returns an error message instead of throwing. */
export function parseGoURL(raw: string): GoURL | string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) return `parse ${JSON.stringify(raw)}: net/url: invalid control character in URL`;
  let rest = raw.split('#')[0]!;
  let scheme = '';
  const sm = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (sm) {
    scheme = sm[1]!.toLowerCase();
    rest = rest.slice(sm[0].length);
  } else if (rest.startsWith(':')) {
    return `parse ${JSON.stringify(raw)}: missing protocol scheme`;
  }
  rest = rest.split('?')[0]!;
  if (scheme && !rest.startsWith('/')) return { scheme, host: '', hostname: '', port: '', path: '', user: false, opaque: true };
  let host = '';
  let user = false;
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    let authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
    rest = end < 0 ? '' : rest.slice(end);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      user = true;
      authority = authority.slice(at + 1);
    }
    host = authority;
  }
  let hostname = host;
  let port = '';
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return `parse ${JSON.stringify(raw)}: missing ']' in host`;
    hostname = host.slice(1, close);
    const after = host.slice(close + 1);
    if (after !== '' && !/^:\d*$/.test(after)) return `parse ${JSON.stringify(raw)}: invalid port ${JSON.stringify(after)} after host`;
    port = after.slice(1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      const p = host.slice(colon + 1);
      if (!/^\d*$/.test(p)) return `parse ${JSON.stringify(raw)}: invalid port ${JSON.stringify(`:${p}`)} after host`;
      if (host.indexOf(':') === colon) {
        hostname = host.slice(0, colon);
        port = p;
      }
    }
  }
  return { scheme, host, hostname, port, path: rest, user, opaque: false };
}

/** siderolabs/net ValidateEndpointURI: parses, IPv6 in brackets, a host, and a port in range when given. */
export function validateEndpointURI(ep: string): string | undefined {
  const u = parseGoURL(ep);
  if (typeof u === 'string') return u;
  if ((u.host.match(/:/g)?.length ?? 0) > 2 && !(u.host.includes('[') && u.host.includes(']'))) return 'IPv6 addresses MUST be enclosed by square brackets';
  if (u.hostname === '') return 'hostname must not be blank';
  if (u.port !== '') {
    const p = Number(u.port);
    if (!Number.isInteger(p) || p < 1 || p > 65535) return 'port number must be between 1 and 65535';
  }
  return undefined;
}

/** host:port with a numeric port (Go's net.SplitHostPort plus a port check). */
export function splitHostPort(s: string): { host: string; port: string } | string {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(s) ?? /^([^:[\]]*):([^:]*)$/.exec(s);
  if (!m) {
    if (!s.includes(':')) return `address ${s}: missing port in address`;
    return `address ${s}: too many colons in address`;
  }
  return { host: m[1]!, port: m[2]! };
}

/** An address:port with an IP address and a port in range (netip.ParseAddrPort). */
export function isAddrPort(s: string): boolean {
  const hp = splitHostPort(s);
  if (typeof hp === 'string') return false;
  const port = Number(hp.port);
  return isIP(hp.host) && /^\d+$/.test(hp.port) && port <= 65535 && (s.startsWith('[') === isIPv6(hp.host));
}

/** A DNS name as Talos accepts for cluster.network.dnsDomain. */
export function isValidDNSName(name: string): boolean {
  if (name === '' || name.length - (name.match(/\./g)?.length ?? 0) > 255) return false;
  return /^([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?$/.test(name);
}

const sizeUnits: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, p: 1e15, pb: 1e15, e: 1e18, eb: 1e18,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4, pi: 1024 ** 5, pib: 1024 ** 5, ei: 1024 ** 6, eib: 1024 ** 6,
};

/** humanize.ParseBytes: `100MB`, `1.5 GiB`, `1024`. */
export function parseBytes(s: string): number | undefined {
  const m = /^\s*([0-9][0-9,]*(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) return undefined;
  const unit = sizeUnits[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]!.replace(/,/g, '')) * unit);
}
