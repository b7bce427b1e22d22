#!/usr/bin/env node
// Answers one HTTP request on stdin/stdout (QEMU's guestfwd runs it for each guest connection): GET /config.yaml
// serves the machine config file named as the argument; anything else is 404. Each request is logged to the file
// named by the second argument, if any.
// usage: config-http.mjs <config file> [log file]
import { appendFileSync, readFileSync } from 'node:fs';

const [file, log] = process.argv.slice(2);
let head = '';
process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk) => {
  head += chunk;
  if (!head.includes('\r\n\r\n')) return;
  process.stdin.pause();
  const [method, path] = head.split('\r\n')[0].split(' ');
  let status = '200 OK';
  let body;
  if (method !== 'GET' && method !== 'HEAD') {
    status = '405 Method Not Allowed';
    body = Buffer.from('only GET\n');
  } else if (path.split('?')[0] !== '/config.yaml' || !file) {
    status = '404 Not Found';
    body = Buffer.from(`no ${path} here\n`);
  } else {
    body = readFileSync(file);
  }
  if (log) appendFileSync(log, `${new Date().toISOString()} ${method} ${path} ${status}\n`);
  process.stdout.write(`HTTP/1.1 ${status}\r\nContent-Type: application/yaml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  process.stdout.end(method === 'HEAD' ? undefined : body, () => process.exit(0));
});
process.stdin.on('end', () => process.exit(0));
