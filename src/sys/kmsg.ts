import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { errnoCode, SysError } from './errors.js';
import { PROC, readText } from './procfs/util.js';

/**
 * The kernel log (/dev/kmsg) as Talos's Dmesg RPC streams it.
 *
 * Talos v1.13.9 reads the log with github.com/siderolabs/go-kmsg (v0.1.6) and sends each record as
 * `"%s: %7s: [%s]: %s"` of facility name, priority name, timestamp (RFC 3339 with nanoseconds) and message. The names
 * below are go-kmsg's tables, not <sys/syslog.h>'s: go-kmsg lists kern..authpriv (0..10) and then local0..local7 as
 * 11..18 (it skips ftp, ntp, security, console and cron2), so a record of facility 16 prints as `local5`, and a facility
 * past the table prints Go's fmt panic text. The message is the whole record body after `;` with the kernel's `\xHH`
 * and `\\` escapes decoded, which keeps the trailing newline and the ` KEY=value` continuation lines: that is what
 * Talos sends, so that is what formatKmsgRecord produces unless told to drop them.
 */

/** go-kmsg's facility names, indexed by facility number (see the module comment for how they differ from syslog.h). */
export const KMSG_FACILITIES: readonly string[] = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

/** Priority (level) names, indexed by the low three bits of the record's prefix. */
export const KMSG_PRIORITIES: readonly string[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/** One /dev/kmsg record. */
export interface KmsgRecord {
  /** prefix >> 3 */
  facility: number;
  /** prefix & 7 */
  priority: number;
  seq: number;
  /** microseconds since boot (the kernel's monotonic clock) */
  usec: number;
  /** the flags field (`-`, or `c` for a continued fragment); empty when the record has only three prefix fields */
  flags: string;
  /** `T<pid>` or `C<cpu>` from a `caller=` prefix field (kernels with CONFIG_PRINTK_CALLER) */
  caller?: string;
  /** boot time + usec, in nanoseconds since the Unix epoch */
  timeNs: bigint;
  /** the first line of the body with the escapes decoded (no trailing newline) */
  message: string;
  /** the continuation lines without their leading space (`SUBSYSTEM=pci`), escapes decoded */
  dict: string[];
  /** the whole body after `;` exactly as the kernel gave it: escapes kept, newline and continuation lines included */
  body: string;
}

const DIGITS = /^\d+$/;

function field(value: string | undefined, what: string, line: string): number {
  if (value === undefined || !DIGITS.test(value)) {
    throw new SysError('BRONZE_SYS_PARSE', `kmsg: bad ${what} ${JSON.stringify(value)} in ${JSON.stringify(line)}`);
  }
  return Number(value);
}

/**
 * Parses one record, `<prefix>,<seq>,<usec>,<flags>[,caller=...][,...];<message>\n[ KEY=value\n...]`. Unknown extra
 * prefix fields are ignored, as the kernel's ABI document asks.
 */
export function parseKmsgRecord(line: string, bootTime: Date): KmsgRecord {
  const semi = line.indexOf(';');
  if (semi < 0) throw new SysError('BRONZE_SYS_PARSE', `kmsg: record has no ';' after its prefix: ${JSON.stringify(line)}`);
  const prefix = line.slice(0, semi).split(',');
  if (prefix.length < 3) throw new SysError('BRONZE_SYS_PARSE', `kmsg: record prefix needs at least 3 fields, got ${prefix.length}: ${JSON.stringify(line)}`);
  const prio = field(prefix[0], 'priority', line);
  const seq = field(prefix[1], 'sequence number', line);
  const usecText = prefix[2]!;
  const usec = field(usecText, 'timestamp', line);
  let caller: string | undefined;
  for (const extra of prefix.slice(4)) {
    if (!extra.startsWith('caller=')) continue;
    caller = extra.slice('caller='.length);
    if (!/^[TC]\d+$/.test(caller)) throw new SysError('BRONZE_SYS_PARSE', `kmsg: bad caller ${JSON.stringify(caller)} in ${JSON.stringify(line)}`);
  }
  const body = line.slice(semi + 1);
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const [first = '', ...rest] = lines;
  const out: KmsgRecord = {
    facility: Math.floor(prio / 8),
    priority: prio % 8,
    seq,
    usec,
    flags: prefix[3] ?? '',
    timeNs: BigInt(bootTime.getTime()) * 1_000_000n + BigInt(usecText) * 1000n,
    message: unescapeKmsg(Buffer.from(first, 'utf8')).toString('utf8'),
    dict: rest.map((l) => unescapeKmsg(Buffer.from(l.startsWith(' ') ? l.slice(1) : l, 'utf8')).toString('utf8')),
    body,
  };
  if (caller !== undefined) out.caller = caller;
  return out;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Decodes the kernel's escapes as go-kmsg does: `\xHH` becomes the byte, `\\` a backslash, and a broken escape is
 * dropped together with the character that broke it. Works on bytes because the escapes may spell UTF-8 sequences.
 */
export function unescapeKmsg(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  let i = 0;
  while (i < input.length) {
    const c = input[i++]!;
    if (c !== 0x5c) {
      out[n++] = c;
      continue;
    }
    if (i >= input.length) break;
    const kind = input[i++]!;
    if (kind === 0x5c) {
      out[n++] = 0x5c;
      continue;
    }
    if (kind !== 0x78) continue;
    if (i >= input.length) break;
    const hi = hexDigit(input[i++]!);
    if (hi < 0) continue;
    if (i >= input.length) break;
    const lo = hexDigit(input[i++]!);
    if (lo < 0) continue;
    out[n++] = (hi << 4) | lo;
  }
  return out.subarray(0, n);
}

/** Go's `%s` of a go-kmsg Facility: the name, or fmt's text for the index panic when the table has none. */
export function facilityName(facility: number): string {
  return KMSG_FACILITIES[facility] ?? `%!s(PANIC=String method: runtime error: index out of range [${facility}] with length ${KMSG_FACILITIES.length})`;
}

export function priorityName(priority: number): string {
  return KMSG_PRIORITIES[priority & 7]!;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Go's time.RFC3339Nano (`2006-01-02T15:04:05.999999999Z07:00`) of nanoseconds since the epoch: trailing zeros of the
 * fraction are trimmed (and the dot with them), UTC is `Z`, other offsets `+hh:mm`.
 */
export function formatRFC3339Nano(ns: bigint, offsetMinutes = 0): string {
  const shifted = ns + BigInt(offsetMinutes) * 60_000_000_000n;
  // floor to whole seconds, so a time before the epoch still gets a positive fraction
  let frac = shifted % 1_000_000_000n;
  if (frac < 0n) frac += 1_000_000_000n;
  const ms = ((shifted - frac) / 1_000_000_000n) * 1000n;
  const d = new Date(Number(ms));
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const fraction = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  let zone = 'Z';
  if (offsetMinutes !== 0) {
    const abs = Math.abs(offsetMinutes);
    zone = `${offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  }
  return `${date}T${time}${fraction}${zone}`;
}

export interface FormatKmsgOptions {
  /** keep the ` KEY=value` continuation lines as Talos does (default true); false leaves the first line only */
  dict?: boolean;
}

function prefixOf(r: KmsgRecord): string {
  return `${facilityName(r.facility)}: ${priorityName(r.priority).padStart(7)}: [${formatRFC3339Nano(r.timeNs)}]: `;
}

/** The Dmesg chunk of a record as bytes (the decoded message may hold bytes that are not UTF-8). */
export function formatKmsgRecordBytes(r: KmsgRecord, opts: FormatKmsgOptions = {}): Buffer {
  let body: Buffer;
  if (opts.dict === false) {
    const nl = r.body.indexOf('\n');
    body = Buffer.concat([unescapeKmsg(Buffer.from(nl < 0 ? r.body : r.body.slice(0, nl), 'utf8')), Buffer.from('\n')]);
  } else body = unescapeKmsg(Buffer.from(r.body, 'utf8'));
  return Buffer.concat([Buffer.from(prefixOf(r), 'utf8'), body]);
}

/**
 * Talos's Dmesg text of a record: `<facility>: <priority, width 7>: [<RFC3339Nano>]: <message>`, where the message is
 * the decoded body, so it ends with the record's newline (and carries its continuation lines unless `dict: false`).
 */
export function formatKmsgRecord(r: KmsgRecord, opts: FormatKmsgOptions = {}): string {
  return formatKmsgRecordBytes(r, opts).toString('utf8');
}

/** Boot time as now − /proc/uptime (go-kmsg uses now − sysinfo uptime, whole seconds; /proc/uptime has centiseconds). */
export async function readBootTime(proc = PROC): Promise<Date> {
  const text = await readText(`${proc}/uptime`);
  const first = text.trim().split(/\s+/)[0];
  const uptime = Number(first);
  if (first === undefined || first === '' || !Number.isFinite(uptime)) {
    throw new SysError('BRONZE_SYS_PARSE', `uptime: expected seconds, got ${JSON.stringify(text)}`);
  }
  return new Date(Date.now() - Math.round(uptime * 1000));
}

export interface ReadKmsgOptions {
  /** keep reading new records as they come, until the signal aborts */
  follow: boolean;
  /** skip the records already in the buffer (only new ones are sent; useful with follow) */
  tail: boolean;
  /** ends the stream (quietly) and closes the file */
  signal: AbortSignal;
  /** default /dev/kmsg; a regular file of records (one after another) works too, for tests */
  path?: string;
  /** default: now − /proc/uptime */
  bootTime?: Date;
  /** how often to look for new records when following (there is no poll() on a raw fd in Node); default 100 ms */
  pollIntervalMs?: number;
  /** false drops the ` KEY=value` continuation lines (Talos keeps them; default true) */
  dict?: boolean;
  /** called once the file is open and positioned (after the `tail` skip): records written from now on will be read */
  onReady?: () => void;
  /** a record that does not parse; Talos sends its error as the chunk's metadata and goes on. Default: skipped. */
  onMalformed?: (err: SysError, raw: Buffer) => void;
}

/** The largest record /dev/kmsg hands out (CONSOLE_EXT_LOG_MAX); a smaller buffer makes read() fail with EINVAL. */
const READ_SIZE = 8192;

/**
 * Splits bytes into records: a record is a line plus the lines after it that start with a space. For /dev/kmsg every
 * read is exactly one record; a regular file hands out arbitrary chunks, so records are cut at line starts.
 */
class RecordSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
  }

  /**
   * Takes the records that are known to be whole: `complete` those followed by the start of another record, `lines`
   * also a last one that ends with a newline (no continuation line is coming), `all` everything (even a last line
   * without its newline).
   */
  take(mode: 'complete' | 'lines' | 'all'): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    let i = this.pending.indexOf(0x0a);
    while (i >= 0) {
      const next = i + 1;
      if (next >= this.pending.length) {
        if (mode !== 'complete') {
          out.push(this.pending.subarray(start, next));
          start = next;
        }
        break;
      }
      if (this.pending[next] !== 0x20) {
        out.push(this.pending.subarray(start, next));
        start = next;
      }
      i = this.pending.indexOf(0x0a, next);
    }
    if (mode === 'all' && start < this.pending.length) {
      out.push(this.pending.subarray(start));
      start = this.pending.length;
    }
    this.pending = this.pending.subarray(start);
    return out;
  }

  clear(): void {
    this.pending = Buffer.alloc(0);
  }
}

type ReadResult = { kind: 'data'; bytes: Buffer } | { kind: 'idle' };

async function readOnce(fh: FileHandle, buf: Buffer): Promise<ReadResult> {
  for (;;) {
    try {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return { kind: 'idle' };
      return { kind: 'data', bytes: buf.subarray(0, bytesRead) };
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return { kind: 'idle' };
      // the records we were about to read were overwritten; the kernel moved us to the oldest one left
      if (code === 'EPIPE') continue;
      throw e;
    }
  }
}

/**
 * Streams the kernel log as Talos's Dmesg chunks, one per record, each ending with a newline.
 *
 * The file is opened non-blocking: without `follow` the stream ends when the kernel has nothing more (EAGAIN); with
 * `follow` it looks again every `pollIntervalMs` so that no libuv thread sits in a blocking read() that closing the
 * file could not interrupt. `tail` reads and drops what is there first, which is where lseek(SEEK_END) would put the
 * reader. Overwritten records (EPIPE) are skipped. Aborting the signal ends the stream and closes the file.
 */
export async function* readKmsg(opts: ReadKmsgOptions): AsyncGenerator<Buffer> {
  const { signal } = opts;
  if (signal.aborted) return;
  const bootTime = opts.bootTime ?? (await readBootTime());
  const path = opts.path ?? '/dev/kmsg';
  const pollMs = opts.pollIntervalMs ?? 100;
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    // /dev/kmsg hands out one whole record per read(); anything else is a stream of bytes
    const perRead = (await fh.stat()).isCharacterDevice();
    const buf = Buffer.allocUnsafe(READ_SIZE);
    const splitter = new RecordSplitter();

    if (opts.tail) {
      for (;;) {
        if (signal.aborted) return;
        const r = await readOnce(fh, buf);
        if (r.kind === 'idle') break;
      }
      splitter.clear();
    }
    opts.onReady?.();

    for (;;) {
      if (signal.aborted) return;
      const r = await readOnce(fh, buf);
      let records: Buffer[];
      if (r.kind === 'data') {
        splitter.push(r.bytes);
        records = splitter.take(perRead ? 'all' : 'complete');
      } else {
        // nothing more for now: a line still without its newline may yet be completed when following
        records = splitter.take(opts.follow ? 'lines' : 'all');
      }
      for (const raw of records) {
        if (signal.aborted) return;
        let record: KmsgRecord;
        try {
          record = parseKmsgRecord(raw.toString('utf8'), bootTime);
        } catch (e) {
          if (e instanceof SysError) {
            opts.onMalformed?.(e, raw);
            continue;
          }
          throw e;
        }
        yield formatKmsgRecordBytes(record, { dict: opts.dict });
      }
      if (r.kind === 'idle') {
        if (!opts.follow) return;
        try {
          await delay(pollMs, undefined, { signal });
        } catch {
          return;
        }
      }
    }
  } finally {
    await fh.close();
  }
}
