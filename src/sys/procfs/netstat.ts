import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { ConnectRecord, NetstatRequest_Filter } from '../../api/gen/machine/machine.js';
import { SysError, errnoCode } from '../errors.js';
import { PROC } from './util.js';

/** The socket tables of /proc/<pid>/net, named as the ConnectRecord.l4proto strings. */
export const SOCKET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'] as const;
export type SocketTable = (typeof SOCKET_TABLES)[number];

/** Formats an IPv6 address as Go's net.IP.String does: IPv4-mapped addresses as dotted quads, the longest zero run compressed. */
export function formatIPv6(bytes: Uint8Array): string {
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Decodes a /proc/net address (`0100007F:1F90`, IPv6 as four host-order 32-bit words) into address and port. */
export function parseSocketAddress(s: string): { ip: string; port: number } {
  const [hex, portHex] = s.split(':');
  if (portHex === undefined || !/^[0-9A-Fa-f]+$/.test(hex) || !/^[0-9A-Fa-f]{1,4}$/.test(portHex)) {
    throw new SysError('BRONZE_SYS_PARSE', `netstat: bad address ${JSON.stringify(s)}`);
  }
  const port = parseInt(portHex, 16);
  if (hex.length === 8) {
    const v = parseInt(hex, 16);
    return { ip: `${v & 0xff}.${(v >>> 8) & 0xff}.${(v >>> 16) & 0xff}.${v >>> 24}`, port };
  }
  if (hex.length === 32) {
    const bytes = new Uint8Array(16);
    for (let w = 0; w < 4; w++) {
      const v = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
      bytes[w * 4] = v & 0xff;
      bytes[w * 4 + 1] = (v >>> 8) & 0xff;
      bytes[w * 4 + 2] = (v >>> 16) & 0xff;
      bytes[w * 4 + 3] = v >>> 24;
    }
    return { ip: formatIPv6(bytes), port };
  }
  throw new SysError('BRONZE_SYS_PARSE', `netstat: bad address ${JSON.stringify(s)}`);
}

const hexU64 = (s: string, what: string) => {
  if (!/^[0-9A-Fa-f]+$/.test(s)) throw new SysError('BRONZE_SYS_PARSE', `netstat: bad ${what} ${JSON.stringify(s)}`);
  return BigInt(`0x${s}`).toString();
};
const decU64 = (s: string, what: string) => {
  if (!/^\d+$/.test(s)) throw new SysError('BRONZE_SYS_PARSE', `netstat: bad ${what} ${JSON.stringify(s)}`);
  return BigInt(s).toString();
};

/** Parses one socket table (`/proc/net/tcp` and its siblings); the header line is skipped. */
export function parseSocketTable(text: string, l4proto: string, netns = ''): ConnectRecord[] {
  const out: ConnectRecord[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer ...
    const f = line.split(/\s+/);
    if (f.length < 12) throw new SysError('BRONZE_SYS_PARSE', `netstat ${l4proto}: short line ${JSON.stringify(line)}`);
    const local = parseSocketAddress(f[1]);
    const remote = parseSocketAddress(f[2]);
    const [tx, rx] = f[4].split(':');
    const [tr, when] = f[5].split(':');
    out.push(
      ConnectRecord.fromPartial({
        l4proto,
        localip: local.ip,
        localport: local.port,
        remoteip: remote.ip,
        remoteport: remote.port,
        state: parseInt(f[3], 16),
        txqueue: hexU64(tx, 'tx_queue'),
        rxqueue: hexU64(rx ?? '', 'rx_queue'),
        tr: parseInt(tr, 10),
        timerwhen: hexU64(when ?? '', 'tm->when'),
        retrnsmt: hexU64(f[6], 'retrnsmt'),
        uid: Number(f[7]),
        timeout: decU64(f[8], 'timeout'),
        inode: decU64(f[9], 'inode'),
        ref: f[10] !== undefined && /^\d+$/.test(f[10]) ? f[10] : '0',
        pointer: f[11] !== undefined && /^[0-9A-Fa-f]+$/.test(f[11]) ? hexU64(f[11], 'pointer') : '0',
        process: { pid: 0, name: '' },
        netns,
      }),
    );
  }
  return out;
}

const isUnspecified = (ip: string) => ip === '0.0.0.0' || ip === '::';

/** Talos's netstat filters: LISTENING = remote unspecified with port 0, CONNECTED = the opposite, ALL = everything. */
export function acceptsRecord(filter: NetstatRequest_Filter, r: ConnectRecord): boolean {
  switch (filter) {
    case NetstatRequest_Filter.ALL:
      return true;
    case NetstatRequest_Filter.LISTENING:
      return isUnspecified(r.remoteip) && r.remoteport === 0;
    case NetstatRequest_Filter.CONNECTED:
      return !isUnspecified(r.remoteip) && r.remoteport !== 0;
    default:
      throw new SysError('BRONZE_SYS_INVALID_ARGUMENT', `invalid filter: ${filter}`);
  }
}

/** Maps socket inodes to the process holding them, from the `socket:[inode]` links under /proc/<pid>/fd. */
export async function socketOwners(proc = PROC): Promise<Map<string, { pid: number; name: string }>> {
  const owners = new Map<string, { pid: number; name: string }>();
  const pids = (await readdir(proc)).filter((n) => /^\d+$/.test(n));
  await Promise.all(
    pids.map(async (pidName) => {
      const pid = Number(pidName);
      let fds: string[];
      try {
        fds = await readdir(`${proc}/${pid}/fd`);
      } catch {
        return; // gone, or not ours to read
      }
      let name: string | undefined;
      for (const fd of fds) {
        let link: string;
        try {
          link = await readlink(`${proc}/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (!link.startsWith('socket:[') || !link.endsWith(']')) continue;
        if (name === undefined) {
          try {
            const st = await readFile(`${proc}/${pid}/stat`, 'utf8');
            name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
          } catch {
            name = '';
          }
        }
        owners.set(link.slice(8, -1), { pid, name });
      }
    }),
  );
  return owners;
}

/** Finds, for each named network namespace (`<netnsDir>/<name>`), one process living in it. */
export async function netnsPids(names: string[], proc = PROC, netnsDir = '/run/netns'): Promise<Map<string, number>> {
  const wanted = new Map<string, string>(); // "dev:ino" → name
  for (const name of names) {
    try {
      const st = await stat(`${netnsDir}/${name}`);
      wanted.set(`${st.dev}:${st.ino}`, name);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  const out = new Map<string, number>();
  if (wanted.size === 0) return out;
  for (const pidName of (await readdir(proc)).filter((n) => /^\d+$/.test(n))) {
    try {
      const st = await stat(`${proc}/${pidName}/ns/net`);
      const name = wanted.get(`${st.dev}:${st.ino}`);
      if (name !== undefined && !out.has(name)) out.set(name, Number(pidName));
    } catch {
      // vanished or not ours
    }
    if (out.size === wanted.size) break;
  }
  return out;
}

export interface NetstatOptions {
  filter?: NetstatRequest_Filter;
  /** tables to read; default none, as in the API (the client names what it wants) */
  tables: SocketTable[];
  /** map socket inodes to their owning processes */
  pid?: boolean;
  /** include the host network namespace (default true) */
  hostNetwork?: boolean;
  /** named network namespaces under `netnsDir` */
  netns?: string[];
  /** every named network namespace under `netnsDir` */
  allNetns?: boolean;
  proc?: string;
  netnsDir?: string;
}

/**
 * The sockets of the requested tables, host namespace first, then named namespaces (tagged with their name in
 * `netns`). A table the kernel does not have (udplite without the module) is skipped.
 */
export async function readNetstat(opts: NetstatOptions): Promise<ConnectRecord[]> {
  const proc = opts.proc ?? PROC;
  const netnsDir = opts.netnsDir ?? '/run/netns';
  const filter = opts.filter ?? NetstatRequest_Filter.ALL;
  const sources: { base: string; netns: string }[] = [];
  if (opts.hostNetwork ?? true) sources.push({ base: `${proc}/net`, netns: '' });
  let names = opts.netns ?? [];
  if (opts.allNetns) {
    try {
      names = (await readdir(netnsDir)).sort();
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      names = [];
    }
  }
  if (names.length > 0) {
    const pids = await netnsPids(names, proc, netnsDir);
    for (const name of names) {
      const pid = pids.get(name);
      if (pid !== undefined) sources.push({ base: `${proc}/${pid}/net`, netns: name });
    }
  }
  const owners = opts.pid ? await socketOwners(proc) : undefined;
  const out: ConnectRecord[] = [];
  for (const src of sources) {
    for (const table of opts.tables) {
      let text: string;
      try {
        text = await readFile(`${src.base}/${table}`, 'utf8');
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') continue;
        throw e;
      }
      for (const r of parseSocketTable(text, table, src.netns)) {
        if (!acceptsRecord(filter, r)) continue;
        const owner = owners?.get(r.inode);
        if (owner) r.process = { pid: owner.pid, name: owner.name };
        out.push(r);
      }
    }
  }
  return out;
}
