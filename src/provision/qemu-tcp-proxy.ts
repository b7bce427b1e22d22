/**
 * Joins a guest of a qemu cluster to a service on the host: QEMU's `guestfwd=...-cmd:` runs this program for each
 * connection the guest opens to the forwarded address, with the connection on stdin/stdout, and it relays the bytes
 * both ways to `host:port` until either side closes. The cluster's VMs reach its discovery service this way, through
 * a user network that reaches nothing else. Failures go to the log file, if one is named.
 *
 * usage: qemu-tcp-proxy <host:port> [log file]
 */
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';

function main(target: string | undefined, logFile: string | undefined): void {
  const log = pino({ base: { service: 'qemu-tcp-proxy' } }, logFile ? pino.destination({ dest: logFile, append: true, sync: true }) : pino.destination('/dev/null'));
  const m = /^(.+):(\d+)$/.exec(target ?? '');
  if (!m) {
    log.error({ target }, 'usage: qemu-tcp-proxy <host:port> [log file]');
    process.exit(2);
  }
  const sock = connect({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  sock.on('error', (err) => {
    log.warn({ target, err: err.message }, 'connection to the host service failed');
    process.exit(1);
  });
  process.stdin.on('error', () => sock.destroy());
  process.stdout.on('error', () => sock.destroy());
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
  sock.on('close', () => process.exit(0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv[2], process.argv[3]);
