import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** An answer to `httpGet`: its status, and its body (decompressed) to read or to leave. */
export interface HttpAnswer {
  status: number;
  /** the body; with `limit`, at most that many bytes (the rest is not read) */
  body(limit?: number): Promise<Buffer>;
  /** closes the connection without reading the body */
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** as Go's HTTP client, which Talos downloads with */
const MAX_REDIRECTS = 10;

/**
 * A GET over node:http / node:https that follows redirects and undoes gzip, deflate and br content encodings, as a
 * plain HTTP client does. It is used where a download happens once, early: `fetch` loads a whole HTTP stack (and
 * compiles WebAssembly) on first use, which costs seconds on a booting machine under emulation.
 */
export function httpGet(url: string, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<HttpAnswer> {
  return get(new URL(url), opts, 0);
}

async function get(u: URL, opts: { headers?: Record<string, string>; signal?: AbortSignal }, hops: number): Promise<HttpAnswer> {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol}`);
  const signal = opts.signal;
  signal?.throwIfAborted();
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers: { 'accept-encoding': 'gzip, deflate, br', ...opts.headers }, signal }, resolve);
    req.on('error', (e) => reject(signal?.aborted ? signal.reason : e));
    req.end();
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (REDIRECTS.has(status) && location) {
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    return get(new URL(location, u), opts, hops + 1);
  }
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  let body: Readable = res;
  if (encoding === 'gzip' || encoding === 'x-gzip') body = res.pipe(createGunzip());
  else if (encoding === 'deflate') body = res.pipe(createInflate());
  else if (encoding === 'br') body = res.pipe(createBrotliDecompress());
  const discard = () => {
    res.destroy();
    if (body !== res) body.destroy();
  };
  return {
    status,
    discard,
    body: async (limit = Infinity) => {
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body) {
          chunks.push(chunk as Buffer);
          size += (chunk as Buffer).length;
          if (size >= limit) break;
        }
      } catch (e) {
        throw signal?.aborted ? signal.reason : e;
      } finally {
        if (size >= limit) discard();
      }
      const all = Buffer.concat(chunks);
      return limit === Infinity ? all : all.subarray(0, limit);
    },
  };
}
