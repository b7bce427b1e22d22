/**
 * The kernel command line as Talos reads it: `key=value` words (a value may be quoted), repeatable keys kept in order,
 * and the Talos parameters (`talos.*`, `ip=`, `panic=`...) with typed accessors.
 */
export class KernelCmdline {
  private readonly values = new Map<string, string[]>();

  constructor(readonly raw: string) {
    for (const word of splitWords(raw)) {
      const eq = word.indexOf('=');
      const key = eq < 0 ? word : word.slice(0, eq);
      const value = eq < 0 ? '' : unquote(word.slice(eq + 1));
      const list = this.values.get(key);
      if (list) list.push(value);
      else this.values.set(key, [value]);
    }
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The last value given for a key (as the kernel does for repeated single-valued keys). */
  get(key: string): string | undefined {
    return this.values.get(key)?.at(-1);
  }

  /** Every value given for a repeatable key, in order. */
  all(key: string): string[] {
    return [...(this.values.get(key) ?? [])];
  }

  get platform(): string | undefined {
    return this.get('talos.platform');
  }

  /** `talos.config=`: a URL, `none`, or `metal-iso`. */
  get configURL(): string | undefined {
    return this.get('talos.config');
  }

  get hostname(): string | undefined {
    return this.get('talos.hostname');
  }

  get ignoredInterfaces(): string[] {
    return this.all('talos.network.interface.ignore');
  }

  /** `panic=<seconds>`: 0 means never reboot after a fatal error. */
  get panicSeconds(): number | undefined {
    const v = this.get('panic');
    return v === undefined || !/^-?\d+$/.test(v) ? undefined : Number(v);
  }

  get environment(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const kv of this.all('talos.environment')) {
      const eq = kv.indexOf('=');
      if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    return out;
  }

  get shutdownAction(): 'poweroff' | 'halt' {
    return this.get('talos.shutdown') === 'halt' ? 'halt' : 'poweroff';
  }

  /** `ip=` settings in dracut's syntax. */
  get ip(): IPSetting[] {
    return this.all('ip').map(parseIPSetting);
  }
}

function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (const ch of s) {
    if (ch === '"') {
      quoted = !quoted;
      cur += ch;
      any = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** One `ip=` parameter: `<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>:<ntp0>`, or `<device>:dhcp`, or `dhcp`. */
export interface IPSetting {
  client?: string;
  server?: string;
  gateway?: string;
  netmask?: string;
  hostname?: string;
  device?: string;
  autoconf?: string;
  dns: string[];
  ntp: string[];
}

const AUTOCONF = new Set(['off', 'none', 'on', 'any', 'dhcp', 'dhcp6', 'auto6', 'ibft', 'both']);

/** Splits on `:` but keeps `[...]` (IPv6) together, dropping the brackets. */
function fields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === ':' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseIPSetting(value: string): IPSetting {
  const f = fields(value);
  const opt = (i: number) => (f[i] === undefined || f[i] === '' ? undefined : f[i]);
  if (f.length === 1 && AUTOCONF.has(f[0]!)) return { autoconf: f[0], dns: [], ntp: [] };
  if (f.length === 2 && AUTOCONF.has(f[1]!)) return { device: opt(0), autoconf: f[1], dns: [], ntp: [] };
  return {
    client: opt(0),
    server: opt(1),
    gateway: opt(2),
    netmask: opt(3),
    hostname: opt(4),
    device: opt(5),
    autoconf: opt(6),
    dns: [opt(7), opt(8)].filter((x): x is string => x !== undefined),
    ntp: [opt(9)].filter((x): x is string => x !== undefined),
  };
}
