import { isIP } from 'node:net';
import { ClientError } from './errors.js';

/** The port apid listens on. */
export const DEFAULT_API_PORT = 50000;

export interface Endpoint {
  /** host name or IP address, without brackets */
  host: string;
  port: number;
  /** `http://` endpoints talk plaintext gRPC (no TLS), as talosctl allows */
  plaintext: boolean;
  /** `host:port` as grpc-js takes it (IPv6 in brackets) */
  address: string;
}

/**
 * Parses an endpoint as talosctl accepts it: `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address,
 * optionally with an `https://`, `http://` or `tcp://` scheme, or a unix socket (`unix:///path`, plaintext, as
 * machined serves its API locally). The default port is 50000.
 */
export function parseEndpoint(text: string, defaultPort = DEFAULT_API_PORT): Endpoint {
  let s = text.trim();
  if (s === '') throw new ClientError('BRONZE_CLIENT_ENDPOINT', 'empty endpoint');
  let plaintext = false;
  if (s.startsWith('unix:')) {
    const path = s.replace(/^unix:(\/\/)?/, '');
    if (path === '') throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": empty socket path`);
    return { host: 'localhost', port: 0, plaintext: true, address: `unix:${path}` };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'http') plaintext = true;
    else if (name !== 'https' && name !== 'tcp' && name !== 'grpc') {
      throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": unsupported scheme "${name}"`);
    }
    s = s.slice(scheme[0].length).replace(/\/+$/, '');
  }
  let host: string;
  let port = defaultPort;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": missing "]"`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": unexpected "${rest}"`);
      port = parsePort(rest.slice(1), text);
    }
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      port = parsePort(s.slice(colon + 1), text);
    } else host = s;
  }
  if (host === '' || /[\s/]/.test(host)) throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": invalid host`);
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, plaintext, address };
}

function parsePort(p: string, text: string): number {
  if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
    throw new ClientError('BRONZE_CLIENT_ENDPOINT', `endpoint "${text}": invalid port "${p}"`);
  }
  return Number(p);
}
