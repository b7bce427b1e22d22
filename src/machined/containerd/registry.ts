import type { ContainerdClient } from './client.js';
import { ImageError, MediaTypes, type OCIDescriptor, gcLabels, hasContent, putImage, resolveManifest, sha256, unpackImage, withLease, writeContent } from './images.js';

/** `machine.registries` of the machine config: mirrors per registry host (`*` for any). */
export interface RegistriesConfig {
  mirrors?: Record<string, { endpoints?: string[]; overridePath?: boolean; skipFallback?: boolean }>;
  config?: Record<string, { auth?: { username?: string; password?: string; auth?: string; identityToken?: string } }>;
}

/** A parsed image reference: `docker.io/library/busybox:latest`, `ghcr.io/siderolabs/kubelet:v1.36.3`, `x@sha256:...`. */
export interface ImageRef {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** the full normalized name (`docker.io/library/busybox:latest`) */
  name: string;
}

/** Parses and normalizes an image reference as Docker does (docker.io and library/ by default, tag latest). */
export function parseImageRef(ref: string): ImageRef {
  const m = /^(?:([^/]+)\/)?(.+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(ref.trim());
  if (!m || ref.trim() === '' || /\s/.test(ref)) throw new ImageError(`invalid image reference ${JSON.stringify(ref)}`);
  let [, host, repository] = m;
  const tag = m[3];
  const digest = m[4];
  if (host && !/[.:]/.test(host) && host !== 'localhost') {
    repository = `${host}/${repository}`;
    host = '';
  }
  host = host || 'docker.io';
  if (host === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (!/^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/.test(repository)) throw new ImageError(`invalid image reference ${JSON.stringify(ref)}: repository name must be lowercase`);
  const finalTag = tag ?? (digest ? undefined : 'latest');
  const name = `${host}/${repository}${finalTag ? `:${finalTag}` : ''}${digest ? `@${digest}` : ''}`;
  return { host, repository, tag: finalTag, digest, name };
}

const ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerList, MediaTypes.ociManifest, MediaTypes.dockerManifest].join(', ');

/** The endpoints to try for a registry host: its mirrors (or `*`'s), then the registry itself unless the mirror says not to. */
export function registryEndpoints(host: string, cfg: RegistriesConfig = {}): { url: string; overridePath: boolean; mirror: boolean }[] {
  const mirror = cfg.mirrors?.[host] ?? cfg.mirrors?.['*'];
  const out = (mirror?.endpoints ?? []).map((e) => ({ url: e.replace(/\/+$/, ''), overridePath: mirror?.overridePath ?? false, mirror: true }));
  if (!mirror?.skipFallback) out.push({ url: host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`, overridePath: false, mirror: false });
  return out;
}

interface Fetcher {
  fetch(path: string, accept: string, signal?: AbortSignal): Promise<Response>;
}

/** An HTTP client of one registry endpoint (distribution API v2), with anonymous or basic-auth bearer tokens. */
function endpointFetcher(ep: { url: string; overridePath: boolean; mirror: boolean }, ref: ImageRef, auth: RegistriesConfig['config'], timeoutMs: number): Fetcher {
  let token: string | undefined;
  const base = ep.overridePath ? ep.url : `${ep.url}/v2`;
  const creds = auth?.[new URL(ep.url).host]?.auth ?? auth?.[ref.host]?.auth;
  const basic = creds?.auth ? creds.auth : creds?.username ? Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64') : undefined;
  const get = async (url: string, accept: string, signal?: AbortSignal) => {
    const headers: Record<string, string> = { accept };
    if (token) headers.authorization = `Bearer ${token}`;
    else if (basic) headers.authorization = `Basic ${basic}`;
    const t = AbortSignal.timeout(timeoutMs);
    return fetch(url, { headers, signal: signal ? AbortSignal.any([signal, t]) : t, redirect: 'follow' });
  };
  return {
    async fetch(path, accept, signal) {
      const query = ep.mirror ? `${path.includes('?') ? '&' : '?'}ns=${encodeURIComponent(ref.host)}` : '';
      const url = `${base}/${ref.repository}/${path}${query}`;
      let res = await get(url, accept, signal);
      const challenge = res.status === 401 ? res.headers.get('www-authenticate') : null;
      if (challenge && /^bearer /i.test(challenge)) {
        await res.body?.cancel();
        const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
        if (!params.realm) throw new Error(`registry ${ep.url} asked for a token without a realm`);
        const tokenURL = new URL(params.realm);
        if (params.service) tokenURL.searchParams.set('service', params.service);
        tokenURL.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull`);
        const tr = await fetch(tokenURL, { headers: basic ? { authorization: `Basic ${basic}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
        if (!tr.ok) throw new Error(`fetching an authorization token from ${tokenURL.origin}: ${tr.status} ${tr.statusText}`);
        const body = (await tr.json()) as { token?: string; access_token?: string };
        token = body.token ?? body.access_token;
        res = await get(url, accept, signal);
      }
      return res;
    },
  };
}

const describeFetchError = (e: unknown): string => {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
};

export interface PullOptions {
  registries?: RegistriesConfig;
  /** per HTTP request, ms (default 30 000) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** skip the registry when an image of that name exists already (Talos: WithSkipIfAlreadyPulled) */
  skipIfPresent?: boolean;
  /** progress of each blob */
  onProgress?: (p: { digest: string; offset: number; total: number; done: boolean }) => void;
}

/** An image that could not be pulled: `failed to pull image "<ref>": <why>`; `notFound` when the registry says so. */
export class PullError extends Error {
  readonly code = 'BRONZE_IMAGE_PULL';
  constructor(
    message: string,
    readonly notFound: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PullError';
  }
}

/**
 * Pulls an image from its registry or the mirrors the config gives for that registry, into containerd: the manifest
 * (the host's platform from an index), the config and the layers go into the content store, the image record is
 * created under the normalized name, and the image is unpacked. Returns the image name and its target descriptor.
 */
export async function pullImage(c: ContainerdClient, reference: string, opts: PullOptions = {}): Promise<{ name: string; target: OCIDescriptor }> {
  const ref = parseImageRef(reference);
  const signal = opts.signal;
  if (opts.skipIfPresent) {
    try {
      const got = await c.call(c.images, c.images.get, { name: ref.name }, { signal });
      const target = got.image?.target;
      if (target) {
        await unpackImage(c, { mediaType: target.mediaType, digest: target.digest, size: Number(target.size) }, { signal });
        return { name: ref.name, target: { mediaType: target.mediaType, digest: target.digest, size: Number(target.size) } };
      }
    } catch {
      // not there: pull it
    }
  }
  const errors: string[] = [];
  let notFound = true;
  for (const ep of registryEndpoints(ref.host, opts.registries)) {
    const f = endpointFetcher(ep, ref, opts.registries?.config, opts.timeoutMs ?? 30_000);
    let target: OCIDescriptor;
    try {
      const res = await f.fetch(`manifests/${ref.digest ?? ref.tag}`, ACCEPT, signal);
      if (!res.ok) {
        await res.body?.cancel();
        if (res.status !== 404) notFound = false;
        errors.push(`${ep.url}: ${res.status === 404 ? 'not found' : `unexpected status ${res.status} ${res.statusText}`}`);
        continue;
      }
      const body = Buffer.from(await res.arrayBuffer());
      const digest = ref.digest ?? res.headers.get('docker-content-digest') ?? sha256(body);
      if (sha256(body) !== digest) throw new ImageError(`manifest from ${ep.url} does not match digest ${digest}`);
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim() || ((JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType ?? MediaTypes.ociManifest);
      target = { mediaType, digest, size: body.length };
      const blobs = new Map<string, Buffer>([[digest, body]]);
      await withLease(c, async (lc) => {
        const read = async (d: OCIDescriptor) => {
          const have = blobs.get(d.digest);
          if (have) return have;
          const r = await f.fetch(`manifests/${d.digest}`, d.mediaType, signal);
          if (!r.ok) throw new Error(`fetching manifest ${d.digest} from ${ep.url}: ${r.status} ${r.statusText}`);
          const b = Buffer.from(await r.arrayBuffer());
          if (sha256(b) !== d.digest) throw new ImageError(`manifest ${d.digest} from ${ep.url} does not match its digest`);
          blobs.set(d.digest, b);
          return b;
        };
        const { manifest, descriptor } = await resolveManifest(target, read);
        for (const d of [manifest.config, ...manifest.layers]) {
          if (await hasContent(lc, d.digest, signal)) {
            opts.onProgress?.({ digest: d.digest, offset: d.size, total: d.size, done: true });
            continue;
          }
          const r = await f.fetch(`blobs/${d.digest}`, '*/*', signal);
          if (!r.ok) throw new Error(`fetching blob ${d.digest} from ${ep.url}: ${r.status} ${r.statusText}`);
          const b = Buffer.from(await r.arrayBuffer());
          if (sha256(b) !== d.digest) throw new ImageError(`blob ${d.digest} from ${ep.url} does not match its digest`);
          await writeContent(lc, d.digest, b, {}, signal);
          opts.onProgress?.({ digest: d.digest, offset: b.length, total: d.size, done: true });
        }
        // manifests last, children first, so each one's references exist when it lands
        for (const d of [descriptor, target].filter((x, i, a) => a.findIndex((y) => y.digest === x.digest) === i)) {
          const b = blobs.get(d.digest)!;
          await writeContent(lc, d.digest, b, gcLabels(d.mediaType, b), signal);
        }
        await putImage(lc, ref.name, target, {}, signal);
        await unpackImage(lc, target, { signal });
      });
      return { name: ref.name, target };
    } catch (e) {
      if (e instanceof ImageError || signal?.aborted) throw e;
      notFound = false;
      errors.push(`${ep.url}: ${describeFetchError(e)}`);
    }
  }
  throw new PullError(`failed to pull image ${JSON.stringify(ref.name)}: ${errors.join('; ')}`, notFound);
}
