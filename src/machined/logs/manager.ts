import { join } from 'node:path';
import { LogsError } from './errors.js';
import { LogBuffer, type LogBufferOptions } from './log-buffer.js';

export interface LogManagerOptions {
  /** bytes kept in memory per service (default 1 MiB) */
  capacity?: number;
  /** when set, each service's log is also written to `<directory>/<id>.log` */
  directory?: string;
  /** file rotation size (default 10 MiB) */
  maxFileSize?: number;
}

/** The service logs of a node, by service id (Talos's logging manager). */
export class LogManager {
  private readonly logs = new Map<string, LogBuffer>();
  private readonly opts: LogManagerOptions;

  constructor(opts: LogManagerOptions = {}) {
    this.opts = opts;
  }

  /** The log of a service, created on first use (registering it). */
  serviceLog(id: string): LogBuffer {
    let log = this.logs.get(id);
    if (log) return log;
    if (id === '' || /[/.]/.test(id)) throw new LogsError('BRONZE_LOGS_INVALID_ID', `service ID is invalid: ${JSON.stringify(id)}`);
    const bufferOpts: LogBufferOptions = { capacity: this.opts.capacity, maxFileSize: this.opts.maxFileSize };
    if (this.opts.directory) bufferOpts.file = join(this.opts.directory, `${id}.log`);
    log = new LogBuffer(id, bufferOpts);
    this.logs.set(id, log);
    return log;
  }

  /** A registered log, or LogsError BRONZE_LOGS_NOT_REGISTERED (`log "<id>" was not registered`). */
  get(id: string): LogBuffer {
    const log = this.logs.get(id);
    if (!log) throw new LogsError('BRONZE_LOGS_NOT_REGISTERED', `log ${JSON.stringify(id)} was not registered`);
    return log;
  }

  /** Ids of every registered log, sorted (the LogsContainers answer for the system namespace). */
  registered(): string[] {
    return [...this.logs.keys()].sort();
  }

  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.close()));
  }
}
