import type { LogBuffer } from './log-buffer.js';

export interface LogDestinationOptions {
  /**
   * `text` (default) renders each pino line as machined's log reads on a Talos node:
   * `2006/01/02 15:04:05.000000 [talos] message {"key":"value"}`; `json` keeps pino's NDJSON.
   */
  format?: 'text' | 'json';
  /** prefix of text lines (default `[talos]`) */
  prefix?: string;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 40: 'warn', 50: 'error', 60: 'fatal' };

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY/MM/DD HH:MM:SS.micro` in UTC. */
export function talosTimestamp(ms: number): string {
  const d = new Date(ms);
  const micro = Math.floor((ms % 1000) * 1000);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micro, 6)}`;
}

/** Renders one pino NDJSON line as a Talos-style text line (with newline); lines that are not JSON pass through. */
export function renderPinoLine(line: string, prefix = '[talos]'): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { time, msg, level, pid: _pid, hostname: _hostname, ...rest } = rec;
  const ts = talosTimestamp(typeof time === 'number' ? time : Date.now());
  const levelName = typeof level === 'number' ? LEVELS[level] : undefined;
  if (levelName) rest.level = levelName;
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${ts} ${prefix} ${typeof msg === 'string' ? msg : ''}${fields}\n`;
}

/**
 * A pino destination (anything with `write(string)`) that puts machined's own log into its service log buffer, so
 * `Logs(id=machined)` serves it like any service log. Combine with pino.multistream to keep a console copy.
 */
export function createLogDestination(log: LogBuffer, opts: LogDestinationOptions = {}): { write(chunk: string): void } {
  const format = opts.format ?? 'text';
  const prefix = opts.prefix ?? '[talos]';
  return {
    write(chunk: string): void {
      if (format === 'json') {
        log.write(chunk);
        return;
      }
      // pino writes one line per call; split defensively
      for (const line of chunk.split('\n')) if (line !== '') log.write(renderPinoLine(line, prefix));
    },
  };
}
