/**
 * The config server of a qemu cluster's VMs: QEMU's `guestfwd=...-cmd:` runs this program for each connection the
 * guest opens to the config address, with the connection on stdin/stdout. It answers one HTTP request: `GET
 * /config.yaml` gets the node's machine config, anything else a 404 or 405. Each request is logged (pino) to the log
 * file, if one is named.
 *
 * usage: qemu-config-http <config file> [log file]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';

/** How long a connection may take to send its request head before the program gives up on it. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface ConfigResponse {
  status: string;
  body: Buffer;
  /** HEAD: headers only */
  headOnly: boolean;
}

/** The answer to a request head (`GET /config.yaml HTTP/1.1 ...`); `read` loads the config when it is asked for. */
export function answer(head: string, read: () => Buffer): ConfigResponse {
  const [method = '', path = ''] = (head.split('\r\n')[0] ?? '').split(' ');
  if (method !== 'GET' && method !== 'HEAD') return { status: '405 Method Not Allowed', body: Buffer.from('only GET\n'), headOnly: false };
  if (path.split('?')[0] !== '/config.yaml') return { status: '404 Not Found', body: Buffer.from(`no ${path} here\n`), headOnly: method === 'HEAD' };
  return { status: '200 OK', body: read(), headOnly: method === 'HEAD' };
}

/** The bytes of a response: status line, headers, and the body unless HEAD. */
export function responseBytes(r: ConfigResponse): Buffer {
  const head = `HTTP/1.1 ${r.status}\r\nContent-Type: application/yaml\r\nContent-Length: ${r.body.length}\r\nConnection: close\r\n\r\n`;
  return r.headOnly ? Buffer.from(head) : Buffer.concat([Buffer.from(head), r.body]);
}

function main(file: string | undefined, logFile: string | undefined): void {
  const log = pino({ base: { service: 'qemu-config-http' } }, logFile ? pino.destination({ dest: logFile, append: true, sync: true }) : pino.destination('/dev/null'));
  const giveUp = setTimeout(() => {
    log.warn('no request head in time');
    process.exit(1);
  }, REQUEST_TIMEOUT_MS);
  let head = '';
  process.stdin.setEncoding('latin1');
  process.stdin.on('data', (chunk: string) => {
    head += chunk;
    if (!head.includes('\r\n\r\n')) return;
    process.stdin.pause();
    clearTimeout(giveUp);
    let r: ConfigResponse;
    try {
      r = answer(head, () => readFileSync(file ?? ''));
    } catch (e) {
      r = { status: '500 Internal Server Error', body: Buffer.from(`${(e as Error).message}\n`), headOnly: false };
    }
    const [method = '', path = ''] = (head.split('\r\n')[0] ?? '').split(' ');
    log.info({ request: head.split('\r\n')[0], status: r.status }, `${method} ${path} ${r.status}`);
    process.stdout.end(responseBytes(r), () => process.exit(0));
  });
  process.stdin.on('end', () => process.exit(0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv[2], process.argv[3]);
