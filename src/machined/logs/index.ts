export { LogBuffer, type LogBufferOptions, type ReadOptions } from './log-buffer.js';
export { LogManager, type LogManagerOptions } from './manager.js';
export { createLogDestination, renderPinoLine, talosTimestamp, type LogDestinationOptions } from './pino-destination.js';
export { LogsError, type LogsErrorCode } from './errors.js';
