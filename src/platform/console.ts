import { createWriteStream } from 'node:fs';
import { networkInterfaces, uptime } from 'node:os';
import type { Writable } from 'node:stream';

/** pino's numeric levels. */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** fields of a log line shown after the message (the rest stay in the service log) */
const SHOWN = ['component', 'controller', 'service', 'source', 'path', 'hostname', 'err', 'error', 'state', 'services', 'attempt', 'url', 'address', 'bytes', 'ms', 'preOriginMs', 'nodeBootstrapMs', 'codeLoadedMs', 'modulesMs', 'volumeMs'];

/** What machined logs when it enters maintenance mode (src/machined/main.ts, loadConfig). */
export const MAINTENANCE_MESSAGE = 'no machine config stored';

export interface ConsoleOptions {
  /** where lines go (default /dev/console) */
  out?: Writable;
  /** the node's reachable addresses (default: this machine's non-loopback addresses) */
  addresses?: () => string[];
  /** how often to look for an address while none is up, in ms (default 1000), and for how long (default 300 000) */
  addressPollMs?: number;
  addressWaitMs?: number;
  /** seconds since the kernel started, shown on each line (default os.uptime) */
  uptime?: () => number;
}

/** The machine's addresses other than loopback and link-local, IPv4 first. */
export function reachableAddresses(): string[] {
  const list = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')));
  return list.sort((a, b) => (a!.family === b!.family ? 0 : a!.family === 'IPv4' ? -1 : 1)).map((a) => a!.address);
}

/** One console line for a pino NDJSON record: `[bronze] <message> key=value…`; undefined for lines below info. */
export function consoleLine(record: Record<string, unknown>, seconds?: number): string | undefined {
  const level = typeof record.level === 'number' ? record.level : 30;
  if (level < 30) return undefined;
  const fields = SHOWN.filter((k) => record[k] !== undefined).map((k) => `${k}=${typeof record[k] === 'string' ? record[k] : JSON.stringify(record[k])}`);
  const tag = level >= 40 ? ` ${LEVELS[level] ?? level}:` : '';
  const at = seconds === undefined ? '' : ` [${seconds.toFixed(2).padStart(8)}]`;
  return `[bronze]${at}${tag} ${String(record.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}

/** How to leave maintenance mode, as Talos tells it on the console. */
export function maintenanceHint(addresses: string[]): string[] {
  const node = addresses[0] ?? '<node address>';
  return [
    '[bronze] maintenance mode: this node waits for its machine config',
    `[bronze] this node is reachable at: ${addresses.length ? addresses.join(', ') : '(no address yet)'}`,
    `[bronze] apply one with: bronzectl apply-config --insecure --nodes ${node} --file <config.yaml>  (talosctl takes the same arguments)`,
  ];
}

/**
 * A pino destination for a real machine's console: machined's log lines from info up, short, and in maintenance mode
 * the node's addresses and the command that applies a config (once the node has an address).
 */
export function metalConsole(opts: ConsoleOptions = {}): { write(chunk: string): void } {
  let out = opts.out;
  const stream = (): Writable | undefined => {
    if (out) return out;
    try {
      out = createWriteStream('/dev/console', { flags: 'w' });
      out.on('error', () => undefined);
    } catch {
      return undefined;
    }
    return out;
  };
  const addresses = opts.addresses ?? reachableAddresses;
  const print = (lines: string[]) => stream()?.write(`${lines.join('\r\n')}\r\n`);
  // an IPv4 address (DHCP's) is what people type; IPv6 ones come first from SLAAC
  const settled = (list: string[]) => list.some((a) => a.includes('.'));
  const hint = () => {
    if (settled(addresses())) return print(maintenanceHint(addresses()));
    // the links are still coming up (DHCP): tell once an address is there
    const started = Date.now();
    const timer = setInterval(() => {
      const list = addresses();
      if (settled(list) || Date.now() - started > (opts.addressWaitMs ?? 300_000)) {
        clearInterval(timer);
        print(maintenanceHint(list));
      }
    }, opts.addressPollMs ?? 1000);
    timer.unref();
  };
  return {
    write(chunk: string) {
      for (const text of chunk.split('\n')) {
        if (!text) continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(text) as Record<string, unknown>;
        } catch {
          print([`[bronze] ${text}`]);
          continue;
        }
        const line = consoleLine(record, (opts.uptime ?? uptime)());
        if (line) print([line]);
        if (typeof record.msg === 'string' && record.msg.startsWith(MAINTENANCE_MESSAGE)) hint();
      }
    },
  };
}
